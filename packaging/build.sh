#!/usr/bin/env bash
# Build the standalone one-folder nudge-local application with PyInstaller.
#
#   packaging/build.sh            -> packaging/dist/nudge-local/nudge-local
#
# It makes (or reuses) its own build venv, installs the project from this source tree and
# PyInstaller, freezes it with packaging/nudge-local.spec, smoke-runs `nudge-local --version` and
# prints the run time and the bundle size. Models are not bundled: `nudge-local download demo`
# (or any pair) fetches them into the user's models folder.
#
# Environment:
#   PYTHON=python3.11          interpreter for the build venv (3.10+, built with a shared libpython)
#   NUDGE_LOCAL_BUILD_DIR=...  build venv and PyInstaller work files (default packaging/build)
#   NUDGE_LOCAL_DIST_DIR=...   where the nudge-local folder goes (default packaging/dist)
#   CMAKE_ARGS=...             passed on to a llama-cpp-python source build, e.g. -DGGML_CUDA=on
set -euo pipefail

started=$(date +%s)
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build_dir="${NUDGE_LOCAL_BUILD_DIR:-$here/build}"
dist_dir="${NUDGE_LOCAL_DIST_DIR:-$here/dist}"
mkdir -p "$build_dir" "$dist_dir"
build_dir="$(cd "$build_dir" && pwd)"  # absolute: the freeze step runs from inside it
dist_dir="$(cd "$dist_dir" && pwd)"
venv="$build_dir/venv"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" && ! -x "$venv/Scripts/python.exe" ]]; then
    echo "== creating the build venv in $venv"
    "$python" -m venv "$venv"
fi
if [[ -x "$venv/Scripts/python.exe" ]]; then  # Windows (Git Bash); untried
    vpython="$venv/Scripts/python.exe"
else
    vpython="$venv/bin/python"
fi

target="$root"
extras=()
case "$(uname -s)" in
    Darwin|MINGW*|MSYS*|CYGWIN*) extras+=("pillow") ;;  # converts the PNG icon to .icns/.ico
esac

echo "== installing $target and PyInstaller into the build venv"
# Not editable: the bundle must hold the package as a wheel install lays it out.
"$vpython" -m pip install --quiet "$target" "pyinstaller>=6.10,<7" "${extras[@]}"

echo "== freezing with PyInstaller"
# From the build dir: `python -m` puts the working directory first on sys.path, and in the source
# tree that would freeze the checkout's nudge_local instead of the installed one.
cd "$build_dir"
"$vpython" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist_dir" --workpath "$build_dir/work" "$here/nudge-local.spec"

app="$dist_dir/nudge-local"
exe="$app/nudge-local"
[[ -x "$exe" ]] || exe="$app/nudge-local.exe"
echo "== smoke test: $exe --version"
"$exe" --version

finished=$(date +%s)
echo "== built $app"
echo "== build time: $((finished - started)) s"
echo "== bundle size: $(du -sh "$app" | cut -f1)"
