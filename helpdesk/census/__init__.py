"""Census campaigns (απογραφή): schools confirm their equipment registry by a deadline."""
