"""The people pages (/admin/people): administrators, managers and schools manage accounts."""
