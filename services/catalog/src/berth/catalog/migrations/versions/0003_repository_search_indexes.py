"""repositories: a name index for sorted pages, the name suffix index for
search, and each namespace's count of repositories for list totals

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The model's SUFFIX_LENGTH when this revision was written (a migration must
# not change when the model does).
SUFFIX_LENGTH = 64
BATCH = 2_000


def _suffixes(name: str) -> list[str]:
    lowered = name.lower()
    return sorted({lowered[i:i + SUFFIX_LENGTH] for i in range(len(lowered))})


def upgrade() -> None:
    with op.batch_alter_table('namespaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repositories_count', sa.Integer(), server_default='0', nullable=False))
    namespaces = sa.table('namespaces', sa.column('id', sa.Integer),
                          sa.column('repositories_count', sa.Integer))
    counted = sa.table('repositories', sa.column('namespace_id', sa.Integer))
    op.execute(namespaces.update().values(repositories_count=(
        sa.select(sa.func.count()).select_from(counted)
        .where(counted.c.namespace_id == namespaces.c.id).scalar_subquery())))

    with op.batch_alter_table('repositories', schema=None) as batch_op:
        batch_op.create_index('ix_repositories_name', ['name'], unique=False)

    suffixes = op.create_table('repository_name_suffixes',
    sa.Column('suffix', sa.String(length=SUFFIX_LENGTH), nullable=False),
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_repository_name_suffixes_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('suffix', 'repository_id', name=op.f('pk_repository_name_suffixes'))
    )
    with op.batch_alter_table('repository_name_suffixes', schema=None) as batch_op:
        batch_op.create_index('ix_repository_name_suffixes_repository_id', ['repository_id'], unique=False)

    # Index the repositories that exist already, a batch at a time.
    conn = op.get_bind()
    repositories = sa.table('repositories', sa.column('id', sa.Integer),
                            sa.column('name', sa.String))
    last = 0
    while True:
        batch = conn.execute(sa.select(repositories.c.id, repositories.c.name)
                             .where(repositories.c.id > last)
                             .order_by(repositories.c.id).limit(BATCH)).all()
        if not batch:
            break
        conn.execute(sa.insert(suffixes), [
            {'repository_id': rid, 'suffix': s}
            for rid, name in batch for s in _suffixes(name)])
        last = batch[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('repository_name_suffixes', schema=None) as batch_op:
        batch_op.drop_index('ix_repository_name_suffixes_repository_id')

    op.drop_table('repository_name_suffixes')
    with op.batch_alter_table('repositories', schema=None) as batch_op:
        batch_op.drop_index('ix_repositories_name')
    with op.batch_alter_table('namespaces', schema=None) as batch_op:
        batch_op.drop_column('repositories_count')
