"""Stars and comments on repositories."""

from __future__ import annotations

from berth.catalog import errors, policy
from berth.catalog.models import Comment, Namespace, Repository, Star
from berth.catalog.services import access, repositories
from berth.catalog.services.context import Ctx
from berth.common.events import catalog as ev
from berth.common.web import Page
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

MAX_COMMENT = 10_000


def star(ctx: Ctx, repository_id: int) -> tuple[Repository, bool]:
    """Star a repository the caller may see; (repository, newly starred)."""
    repo, _ = repositories.get_visible(ctx, repository_id)
    assert ctx.user_id is not None
    found = ctx.session.scalar(select(Star).where(Star.repository_id == repo.id,
                                                  Star.user_id == ctx.user_id))
    if found is not None:
        return repo, False
    ctx.session.add(Star(repository_id=repo.id, user_id=ctx.user_id))
    ctx.session.flush()
    ctx.emit(ev.StarAdded(entity_id=repo.id, name=repo.name,
                          namespace=repo.namespace.name, repository=repo.full_name))
    return repo, True


def unstar(ctx: Ctx, repository_id: int) -> Repository:
    """Remove the caller's star (idempotent)."""
    repo, _ = repositories.get_visible(ctx, repository_id)
    found = ctx.session.scalar(select(Star).where(Star.repository_id == repo.id,
                                                  Star.user_id == ctx.user_id))
    if found is not None:
        ctx.session.delete(found)
        ctx.session.flush()
        ctx.emit(ev.StarRemoved(entity_id=repo.id, name=repo.name,
                                namespace=repo.namespace.name,
                                repository=repo.full_name))
    return repo


def starred(ctx: Ctx, page: Page) -> tuple[list[Repository], int]:
    """The caller's starred repositories that the caller can still see."""
    where = (access.visible_namespaces(ctx.session, ctx.subject, ctx.knobs)
             & Star.user_id.__eq__(ctx.user_id))
    base = (select(Repository).join(Star, Star.repository_id == Repository.id)
            .join(Namespace, Namespace.id == Repository.namespace_id).where(where))
    total = ctx.session.scalar(
        select(func.count(Repository.id)).join(Star, Star.repository_id == Repository.id)
        .join(Namespace, Namespace.id == Repository.namespace_id).where(where)) or 0
    query = base.options(joinedload(Repository.namespace)
                         .joinedload(Namespace.registry_ref)).order_by(Star.id.desc())
    if not page.all:
        query = query.offset(page.offset).limit(page.per_page)
    return list(ctx.session.scalars(query).unique()), total


def comments(ctx: Ctx, repository_id: int) -> list[Comment]:
    """Comments of a repository the caller may see, oldest first."""
    repo, _ = repositories.get_visible(ctx, repository_id)
    return list(ctx.session.scalars(select(Comment).where(
        Comment.repository_id == repo.id).order_by(Comment.id)))


def add_comment(ctx: Ctx, repository_id: int, body: str) -> Comment:
    """Comment on a repository the caller may see."""
    repo, _ = repositories.get_visible(ctx, repository_id)
    if not body.strip():
        raise errors.Invalid("body can't be blank", detail={"field": "body"})
    comment = Comment(repository_id=repo.id, author_id=ctx.user_id,
                      author_name=ctx.subject.username, body=body)
    ctx.session.add(comment)
    ctx.session.flush()
    ctx.emit(ev.CommentCreated(entity_id=comment.id, name=repo.name,
                               namespace=repo.namespace.name,
                               repository=repo.full_name))
    return comment


def delete_comment(ctx: Ctx, repository_id: int, comment_id: int) -> None:
    """Delete a comment (its author or an admin)."""
    repo, _ = repositories.get_visible(ctx, repository_id)
    comment = ctx.session.get(Comment, comment_id)
    if comment is None or comment.repository_id != repo.id:
        raise errors.not_found("comment")
    decision = policy.can_delete_comment(ctx.subject, comment.author_id)
    if not decision.allowed:
        raise errors.denied(decision.rule)
    ctx.emit(ev.CommentDeleted(entity_id=comment.id, name=repo.name,
                               namespace=repo.namespace.name,
                               repository=repo.full_name))
    ctx.session.delete(comment)
    ctx.session.flush()
