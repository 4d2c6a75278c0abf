#!/usr/bin/env bash
# Install (or with --uninstall, remove) the nudge-local desktop launcher and icon for the current
# user, in the XDG locations desktop menus read:
#   $XDG_DATA_HOME/applications/nudge-local.desktop
#   $XDG_DATA_HOME/icons/hicolor/{256x256,scalable}/apps/nudge-local.{png,svg}
# Usage: packaging/install-desktop.sh [--uninstall] [PATH-TO-nudge-local]
# Without a path it uses the nudge-local found on PATH (a pipx/uv tool install), or the
# standalone bundle in packaging/dist. Exec gets the absolute path because a desktop session's
# PATH often lacks ~/.local/bin, where pipx and uv put their commands.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
apps_dir="$data_home/applications"
icons_dir="$data_home/icons/hicolor"

refresh_caches() {
    # Menus pick up changes without these on most desktops; run them when present.
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$apps_dir" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$icons_dir" || true
    fi
}

if [[ "${1:-}" == "--uninstall" ]]; then
    rm -f "$apps_dir/nudge-local.desktop" \
          "$icons_dir/256x256/apps/nudge-local.png" \
          "$icons_dir/scalable/apps/nudge-local.svg"
    refresh_caches
    echo "removed the nudge-local launcher from $apps_dir"
    exit 0
fi

exe="${1:-}"
if [[ -z "$exe" ]]; then
    exe="$(command -v nudge-local || true)"
fi
if [[ -z "$exe" && -x "$here/dist/nudge-local/nudge-local" ]]; then
    exe="$here/dist/nudge-local/nudge-local"
fi
if [[ -z "$exe" ]]; then
    echo "install-desktop.sh: no nudge-local found; install it first (pipx install nudge-local) or pass its path." >&2
    exit 2
fi
if [[ ! -x "$exe" ]]; then
    echo "install-desktop.sh: $exe is not an executable file." >&2
    exit 2
fi
exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"

mkdir -p "$apps_dir" "$icons_dir/256x256/apps" "$icons_dir/scalable/apps"
install -m 644 "$here/icons/nudge-local.png" "$icons_dir/256x256/apps/nudge-local.png"
install -m 644 "$here/icons/nudge-local.svg" "$icons_dir/scalable/apps/nudge-local.svg"
# A path with spaces must be quoted in Exec (Desktop Entry spec); TryExec takes it unquoted.
sed -e "s|^Exec=nudge-local |Exec=\"$exe\" |" -e "s|^TryExec=nudge-local\$|TryExec=$exe|" \
    "$here/nudge-local.desktop" > "$apps_dir/nudge-local.desktop"
chmod 644 "$apps_dir/nudge-local.desktop"
refresh_caches
echo "installed $apps_dir/nudge-local.desktop (Exec: $exe chat)"
