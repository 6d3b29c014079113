"""sla policies, business hours, closures and the notification outbox

Revision ID: c5slapol0001
Revises: fba9c46ce7d0
Create Date: 2026-11-23 20:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c5slapol0001'
down_revision = 'fba9c46ce7d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sla_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('first_response_minutes', sa.Integer(), nullable=True),
        sa.Column('resolution_minutes', sa.Integer(), nullable=True),
        sa.Column('level1_minutes', sa.Integer(), nullable=True),
        sa.Column('level2_minutes', sa.Integer(), nullable=True),
        sa.Column('level3_minutes', sa.Integer(), nullable=True),
        sa.Column('warn_ratio', sa.Float(), nullable=False),
        sa.Column('action_on_level_breach', sa.String(length=10), nullable=False),
        sa.CheckConstraint('priority BETWEEN 1 AND 4', name=op.f('ck_sla_policies_priority')),
        sa.CheckConstraint('warn_ratio > 0 AND warn_ratio <= 1',
                           name=op.f('ck_sla_policies_warn_ratio')),
        sa.CheckConstraint("action_on_level_breach IN ('escalate', 'warn')",
                           name=op.f('ck_sla_policies_action')),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_sla_policies_category_id_categories')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
        sa.UniqueConstraint('priority', 'category_id', name='uq_sla_policies_priority_category'),
    )
    op.create_table(
        'business_hours',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('start_time', sa.Time(), nullable=False),
        sa.Column('end_time', sa.Time(), nullable=False),
        sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_business_hours_weekday')),
        sa.CheckConstraint('start_time < end_time', name=op.f('ck_business_hours_interval')),
        sa.ForeignKeyConstraint(['unit_id'], ['support_units.id'],
                                name=op.f('fk_business_hours_unit_id_support_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_business_hours')),
    )
    op.create_index(op.f('ix_business_hours_unit_id'), 'business_hours', ['unit_id'], unique=False)
    op.create_table(
        'closures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['support_units.id'],
                                name=op.f('fk_closures_unit_id_support_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_closures')),
    )
    op.create_index('ix_closures_day_unit', 'closures', ['day', 'unit_id'], unique=False)
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('recipient_email', sa.String(length=200), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_notifications_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key')),
    )
    op.create_index(op.f('ix_notifications_ticket_id'), 'notifications', ['ticket_id'], unique=False)
    op.create_index('ix_notifications_status_created', 'notifications', ['status', 'created_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_notifications_status_created', table_name='notifications')
    op.drop_index(op.f('ix_notifications_ticket_id'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_index('ix_closures_day_unit', table_name='closures')
    op.drop_table('closures')
    op.drop_index(op.f('ix_business_hours_unit_id'), table_name='business_hours')
    op.drop_table('business_hours')
    op.drop_table('sla_policies')
