"""Guards the public surface: scripts rely on these names."""

import nudge_local


def test_public_api():
    assert sorted(nudge_local.__all__) == sorted([
        "Backend", "BusyError", "CatalogError", "ChatTemplateError", "ContextOverflowError", "DEFAULT_SYSTEM",
        "DownloadError", "EvalCounters", "GenerationError", "InstructBaseWarning", "ModelClosedError",
        "ModelFileError", "ModelInfo", "ModelNotInstalledError", "ModelSettings", "NudgeError", "NudgeResult",
        "NudgeStream", "Nudger", "PairInfo", "Piece", "PromptFormat", "RemoteError", "RemoteModel", "RuleConfig",
        "SettingError", "Span", "Stats", "__version__", "download",
    ])
    assert callable(nudge_local.download)
    for name in nudge_local.__all__:
        assert hasattr(nudge_local, name), name


def test_errors_are_typed():
    for name in ["CatalogError", "ChatTemplateError", "ContextOverflowError", "ModelFileError",
                 "ModelNotInstalledError", "SettingError", "DownloadError"]:
        assert issubclass(getattr(nudge_local, name), nudge_local.NudgeError)


def test_public_classes_have_docstrings():
    for name in nudge_local.__all__:
        obj = getattr(nudge_local, name)
        if isinstance(obj, type):
            assert obj.__doc__ and obj.__doc__.strip(), f"{name} has no docstring"
