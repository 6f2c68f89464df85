"""The account whose support PIN an incident's caller proved their keyed ticket with

Revision ID: d2f4a6c8e0b3
Revises: c6e8a0b2d4f7
Create Date: 2026-12-05 15:10:00

A repeat caller may prove who they are with the support PIN of the account of the ticket the incident's first
caller keyed and proved. That account was read from the ticket as it is now, and the helpdesk's token
(``tickets:write``) may move a ticket to another account: a customer who knew their own account's PIN could then
prove themselves on another customer's incident. The incident now keeps the account the PIN was proven against
(``app.services.caller_trust.note_verified``). One new column; every row is kept. Incidents already proven by PIN
for a keyed ticket get their ticket's account as it is at the upgrade (what the check read until now).
"""

from alembic import op
import sqlalchemy as sa


revision = 'd2f4a6c8e0b3'
down_revision = 'c6e8a0b2d4f7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('pin_account_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_incidents_pin_account_id_accounts'), 'accounts', ['pin_account_id'], ['id'])
    op.execute("UPDATE incidents SET pin_account_id = (SELECT tickets.account_id FROM tickets "
               "WHERE tickets.id = incidents.ticket_id) "
               "WHERE caller_verified = 'pin' AND ticket_match = 'keypad' AND ticket_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_constraint(op.f('fk_incidents_pin_account_id_accounts'), type_='foreignkey')
        batch.drop_column('pin_account_id')
