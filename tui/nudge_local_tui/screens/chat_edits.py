"""What the user does to messages already in the chat: edit, delete, regenerate, resend, and
compare (runs kept with the chat). Functions of the chat screen, kept apart to keep it short."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

from ..context import engine_messages
from ..store import CompareRecord, StoredMessage, StoreError
from ..widgets.chat_item import ChatItem
from ..widgets.conversation import CompareNote
from ..widgets.reply import ReplyView
from ..widgets.user_message import UserMessage
from .dialogs import Confirm, EditMessage

if TYPE_CHECKING:
    from .chat import ChatScreen


def _busy(screen: ChatScreen) -> bool:
    if screen.generating:
        screen.notify("Wait for the reply to finish (or press Esc) first.", severity="warning")
        return True
    return False


def _saved(screen: ChatScreen, item: ChatItem) -> StoredMessage | None:
    if item.stored is None or item.stored.id is None:
        screen.notify("This message was not saved, so it cannot be changed.", severity="warning")
        return None
    return item.stored


def _store_failed(screen: ChatScreen, exc: StoreError) -> None:
    screen.notify(f"{exc} Nothing was changed.", severity="error", timeout=12)


async def item_action(screen: ChatScreen, item: ChatItem, action: str) -> None:
    if action == "edit":
        edit_item(screen, item)
    elif action == "delete":
        delete_item(screen, item)
    elif action == "regenerate" and isinstance(item, ReplyView):
        await regenerate(screen, item)


def _is_last_prompt(screen: ChatScreen, stored: StoredMessage) -> bool:
    prompts = [m for m in screen.messages if m.role == "user"]
    return bool(prompts) and prompts[-1].id == stored.id


def edit_item(screen: ChatScreen, item: ChatItem) -> None:
    if _busy(screen) or (stored := _saved(screen, item)) is None:
        return
    resend = isinstance(item, UserMessage) and _is_last_prompt(screen, stored)

    async def done(answer: tuple[str, bool] | None) -> None:
        if answer is None or not answer[0].strip():
            return
        text, and_resend = answer
        if and_resend:
            await resend_last_prompt(screen, text)
            return
        try:
            screen.nudge_app.store.edit_message(stored.id or 0, text)
        except StoreError as exc:
            _store_failed(screen, exc)
            return
        stored.content, stored.spans, stored.edited = text, [], True
        if isinstance(item, UserMessage):
            item.set_text(text)
        elif isinstance(item, ReplyView):
            item.load([(text, "base")], item.status)
            item.set_title(edited=True)

    who = "your prompt" if isinstance(item, UserMessage) else "this reply"
    screen.app.push_screen(EditMessage(f"Edit {who}:", item.text, resend=resend), done)


def edit_last_prompt(screen: ChatScreen) -> None:
    prompts = [i for i in screen.conversation.items() if isinstance(i, UserMessage)]
    if not prompts:
        screen.notify("There is no prompt to edit yet.")
        return
    edit_item(screen, prompts[-1])


def _ids_to_delete(screen: ChatScreen, stored: StoredMessage) -> list[int]:
    """A prompt goes with the replies that answer it; a reply goes alone."""
    if stored.role == "assistant":
        return [stored.id or 0]
    ids, started = [], False
    for m in screen.messages:
        if m.id == stored.id:
            started = True
        elif started and m.role == "user":
            break
        if started and m.id is not None:
            ids.append(m.id)
    return ids


async def _remove(screen: ChatScreen, ids: list[int]) -> None:
    screen.messages = [m for m in screen.messages if m.id not in ids]
    for item in screen.conversation.items():
        if item.stored is not None and item.stored.id in ids:
            await item.remove()


def delete_item(screen: ChatScreen, item: ChatItem) -> None:
    if _busy(screen) or (stored := _saved(screen, item)) is None:
        return
    ids = _ids_to_delete(screen, stored)
    what = "this reply" if stored.role == "assistant" else (
        "this prompt and its reply" if len(ids) > 1 else "this prompt")

    async def done(yes: bool | None) -> None:
        if not yes:
            return
        try:
            screen.nudge_app.store.delete_messages(ids)
        except StoreError as exc:
            _store_failed(screen, exc)
            return
        await _remove(screen, ids)
        screen.prompt.focus()

    screen.app.push_screen(Confirm(f"Delete {what}? This cannot be undone."), done)


async def regenerate(screen: ChatScreen, view: ReplyView) -> None:
    if _busy(screen):
        return
    items = screen.conversation.items()
    if not items or items[-1] is not view:
        screen.notify("Only the last reply can be written again.", severity="warning")
        return
    if not screen.nudge_app.engine.ready:
        screen.notify("No model pair is ready; press F2 for models.", severity="warning")
        return
    if view.stored is not None and view.stored.id is not None:
        try:
            screen.nudge_app.store.delete_messages([view.stored.id])
        except StoreError as exc:
            _store_failed(screen, exc)
            return
        screen.messages = [m for m in screen.messages if m.id != view.stored.id]
    await view.remove()
    await screen.start_reply()


async def regenerate_last(screen: ChatScreen) -> None:
    replies = [i for i in screen.conversation.items() if isinstance(i, ReplyView)]
    if not replies:
        screen.notify("There is no reply to write again yet.")
        return
    await regenerate(screen, replies[-1])


async def resend_last_prompt(screen: ChatScreen, text: str) -> None:
    """Replace the last prompt by ``text``, drop its replies, and ask again."""
    prompts = [m for m in screen.messages if m.role == "user"]
    if _busy(screen) or not prompts or prompts[-1].id is None:
        return
    last = prompts[-1]
    replies = [m.id for m in screen.messages[screen.messages.index(last) + 1:] if m.id is not None]
    try:
        screen.nudge_app.store.edit_message(last.id or 0, text)
        screen.nudge_app.store.delete_messages(replies)
    except StoreError as exc:
        _store_failed(screen, exc)
        return
    last.content = text
    await _remove(screen, replies)
    for item in screen.conversation.items():
        if isinstance(item, UserMessage) and item.stored is last:
            item.set_text(text)
    await screen.start_reply()


def open_compare(screen: ChatScreen, record: CompareRecord | None = None) -> None:
    """Compare the last prompt (or show a kept compare run, which can run again)."""
    from .compare import CompareScreen

    app = screen.nudge_app
    prompts = [m for m in screen.messages if m.role == "user"]
    if record is None and not prompts:
        screen.notify("Send a prompt first; compare runs the last prompt in all three modes.")
        return
    if _busy(screen):
        return
    prompt = next((m for m in prompts if m.id == record.message_id), None) if record else prompts[-1]
    upto = screen.messages[: screen.messages.index(prompt) + 1] if prompt else []
    messages = engine_messages({"role": m.role, "content": m.content} for m in upto)
    if not messages and record is not None:
        messages = [{"role": "user", "content": record.prompt}]
    anchor = _note_of(screen, record)

    async def done(new: list[CompareRecord] | None) -> None:
        for rec in new or []:
            screen.compares.append(rec)
            note = CompareNote(rec)
            if anchor is not None:
                await screen.conversation.mount(note, after=anchor)
            else:
                await screen.conversation.add(note)

    app.push_screen(CompareScreen(messages, app.settings, app.chat_id, prompt.id if prompt else None, record), done)


def _note_of(screen: ChatScreen, record: CompareRecord | None) -> Widget | None:
    if record is None:
        return None
    return next((n for n in screen.conversation.query(CompareNote) if n.record is record), None)
