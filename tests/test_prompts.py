from __future__ import annotations

import pytest
from fakes import make_pair

from nudge_local import ChatTemplateError, Nudger, SettingError
from nudge_local._prompts import ChatTemplate, base_prompt, normalize_messages

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_SYSTEM = (
    "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def test_base_prompt_single_turn_is_the_papers_format():
    system, turns = normalize_messages("What is 2+2?", None, "Answer briefly.")
    assert base_prompt(system, turns) == "Answer briefly.\nQuestion: What is 2+2?\n"


def test_base_prompt_multi_turn_continues_the_format():
    messages = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "2+2?"},
    ]
    system, turns = normalize_messages(None, messages, None)
    assert system == "Be kind."
    assert base_prompt(system, turns) == "Be kind.\nQuestion: Hi\nHello!\n\nQuestion: 2+2?\n"


def test_default_system_prompt_and_empty_system():
    system, turns = normalize_messages("Hi", None, None)
    assert system == "You are a helpful assistant."
    assert base_prompt("", turns) == "Question: Hi\n"


def test_chat_template_renders_system_and_question_prefix():
    t = ChatTemplate(CHATML)
    text = t.render("Be kind.", [{"role": "user", "content": "Hi"}])
    assert text == (
        "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nQuestion: Hi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_template_without_system_role_gets_system_in_first_user_turn():
    t = ChatTemplate(NO_SYSTEM, bos_token="<bos>")
    text = t.render("Be kind.", [{"role": "user", "content": "Hi"}])
    assert text == "<bos><start_of_turn>user\nBe kind.\nQuestion: Hi<end_of_turn>\n<start_of_turn>model\n"


def test_template_cannot_reach_python_internals():
    evil = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(ChatTemplateError):
        ChatTemplate(evil).render("", [{"role": "user", "content": "x"}])
    mutate = "{% set m = messages.append({'role': 'x'}) %}ok"
    with pytest.raises(ChatTemplateError):
        ChatTemplate(mutate).render("", [{"role": "user", "content": "x"}])


def test_unparsable_template_is_a_clear_error():
    with pytest.raises(ChatTemplateError, match="does not parse"):
        ChatTemplate("{% for %}")


def test_nudging_model_without_template_is_an_error_unless_given():
    base, nudging = make_pair({}, {}, template=None)
    with pytest.raises(ChatTemplateError, match="no chat template"):
        Nudger(base, nudging)
    assert Nudger(base, nudging, chat_template=CHATML).template is not None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"gamma": 1.5}, "gamma must be between 0 and 1"),
        ({"gamma": -0.1}, "gamma must be between 0 and 1"),
        ({"max_tokens": 0}, "max_tokens must be a positive"),
        ({"max_tokens": -3}, "max_tokens must be a positive"),
        ({"temperature": -1.0}, "temperature"),
        ({"only": "both"}, "only must be"),
    ],
)
def test_bad_settings_raise_setting_error(kwargs, message):
    base, nudging = make_pair({}, {})
    with pytest.raises(SettingError, match=message):
        Nudger(base, nudging).generate("Hi", **kwargs)


@pytest.mark.parametrize(
    "messages, message",
    [
        ([], "last message must be the user's"),
        ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "last message"),
        ([{"role": "robot", "content": "a"}], "role of system, user or assistant"),
    ],
)
def test_bad_messages(messages, message):
    base, nudging = make_pair({}, {})
    with pytest.raises(SettingError, match=message):
        Nudger(base, nudging).generate(messages=messages)


def test_prompt_longer_than_context_is_a_clear_error():
    from nudge_local import ContextOverflowError

    base, nudging = make_pair({}, {}, n_ctx=32)
    with pytest.raises(ContextOverflowError, match="context of 32"):
        Nudger(base, nudging).generate("Hello world " * 40)


def test_multi_turn_messages_reach_both_models():
    base_log, nudging_log = [], []
    base, nudging = make_pair({}, {}, base_log=base_log, nudging_log=nudging_log)
    base.script = lambda text: (base_log.append(text), "<eos>")[1]
    nudging.script = lambda text: (nudging_log.append(text), "<eos>")[1]
    n = Nudger(base, nudging)
    n.generate(messages=[{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"},
                         {"role": "user", "content": "two"}], system="S")
    assert nudging_log[0] == "SQuestion: QAQuestion: two"
