"""Runs llama-cpp-python's OpenAI-compatible server (``python -m llama_cpp.server``) for the
remote integration tests, with one change.

llama-cpp-python 0.3.36 built for a CPU with AMX moves quantized weights into an "AMX buffer"
when a model loads, and llama.cpp's AMX matrix multiply then crashes the process on the first
evaluation (llama.cpp issue #20824; nudge_local/_llama.py works around it the same way, see
``_weight_repack``). The server offers no option for it, so this launcher makes
``llama_model_default_params()`` - where ``Llama`` takes its model parameters - return them
with ``use_extra_bufts`` off (weights stay in plain CPU buffers, the AVX kernels run), then
hands over to the server's own ``main()`` with the command-line arguments unchanged. On a CPU
without AMX this changes nothing.

    python tests/remote/llama_server_launcher.py --model base.gguf --host 127.0.0.1 --port 8123
"""

from __future__ import annotations

import llama_cpp.llama_cpp as raw

_original = raw.llama_model_default_params


def _without_extra_buffers():  # type: ignore[no-untyped-def]
    params = _original()
    params.use_extra_bufts = False
    return params


raw.llama_model_default_params = _without_extra_buffers

if __name__ == "__main__":
    from llama_cpp.server.__main__ import main

    main()
