#!/usr/bin/env bash
# Builds the strata command (release) and installs it with its shell completions under a prefix.
# Running it again replaces what it installed; nothing else is touched.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: tools/install.sh [--prefix DIR] [--no-build]

Builds strata (swift build -c release --product strata, after tools/setup.sh) and installs:
  PREFIX/bin/strata
  PREFIX/share/bash-completion/completions/strata
  PREFIX/share/zsh/site-functions/_strata
  PREFIX/share/fish/vendor_completions.d/strata.fish

Options:
  --prefix DIR   Where to install (default: ~/.local).
  --no-build     Skip tools/setup.sh and the build; install .build/release/strata as it is.
  -h, --help     Show this help.
EOF
}

die_usage() {
  echo "install.sh: error: $1" >&2
  usage >&2
  exit 2
}

prefix="$HOME/.local"
build=1
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --no-build) build=0 ;;
    --prefix)
      if [ $# -lt 2 ] || [ -z "$2" ]; then die_usage "--prefix needs a directory"; fi
      prefix=$2; shift ;;
    --prefix=*)
      prefix=${1#--prefix=}
      [ -n "$prefix" ] || die_usage "--prefix needs a directory" ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
  shift
done
# shellcheck disable=SC2088  # a literal ~ (from --prefix=~/x), expanded here
case $prefix in
  "~") prefix=$HOME ;;
  "~/"*) prefix=$HOME/${prefix#"~/"} ;;
esac

cd "$(dirname "$0")/.."
repo=$(pwd)
binary=$repo/.build/release/strata

if [ "$build" -eq 1 ]; then
  if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
      export PATH="/opt/swift/usr/bin:$PATH"
    else
      echo "install.sh: error: swift is not on PATH nor at /opt/swift/usr/bin; install Swift 6 first" >&2
      exit 1
    fi
  fi
  tools/setup.sh
  echo "install.sh: swift build -c release --product strata"
  swift build -c release --product strata
elif [ ! -x "$binary" ]; then
  echo "install.sh: error: --no-build but $binary does not exist; run without --no-build" >&2
  exit 1
fi

# Refuse a binary that cannot run here (e.g. a missing Swift runtime) before touching the prefix.
if ! "$binary" --help >/dev/null 2>&1; then
  echo "install.sh: error: $binary does not run:" >&2
  "$binary" --help 2>&1 >/dev/null | head -5 >&2 || true
  exit 1
fi

mkdir -p "$prefix" || { echo "install.sh: error: cannot create $prefix" >&2; exit 1; }
prefix=$(cd "$prefix" && pwd)
bindir=$prefix/bin
bash_dir=$prefix/share/bash-completion/completions
zsh_dir=$prefix/share/zsh/site-functions
fish_dir=$prefix/share/fish/vendor_completions.d
mkdir -p "$bindir" "$bash_dir" "$zsh_dir" "$fish_dir"

# Each file is written next to its destination and renamed over it: a rerun, or a strata already
# running from PREFIX/bin, never sees a half-written file.
tmp_files=()
cleanup() { [ ${#tmp_files[@]} -eq 0 ] || rm -f "${tmp_files[@]}"; }
trap cleanup EXIT
put() { # put DEST MODE < content
  local dest=$1 mode=$2 tmp
  tmp=$(mktemp "$dest.XXXXXX")
  tmp_files+=("$tmp")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
}

put "$bindir/strata" 755 <"$binary"
for shell in bash zsh fish; do
  case $shell in
    bash) dest=$bash_dir/strata ;;
    zsh) dest=$zsh_dir/_strata ;;
    fish) dest=$fish_dir/strata.fish ;;
  esac
  script=$("$bindir/strata" --generate-completion-script "$shell") || {
    echo "install.sh: error: strata --generate-completion-script $shell failed" >&2
    exit 1
  }
  printf '%s\n' "$script" | put "$dest" 644
done

echo "installed $("$bindir/strata" --version 2>/dev/null || echo strata):"
echo "  $bindir/strata"
echo "  $bash_dir/strata"
echo "  $zsh_dir/_strata"
echo "  $fish_dir/strata.fish"
case ":$PATH:" in
  *":$bindir:"*) ;;
  *)
    echo
    echo "$bindir is not on PATH; add it (e.g. to ~/.bashrc or ~/.zshrc):"
    printf '  export PATH=%q:$PATH\n' "$bindir" ;;
esac
echo
echo "completions: bash-completion (2.9+) finds them once $bindir is on PATH;"
printf '  zsh needs fpath=(%q $fpath) before compinit in ~/.zshrc;\n' "$zsh_dir"
if [ "$prefix" = "$HOME/.local" ]; then
  echo "  fish (3.x) reads $fish_dir by itself."
else
  printf '  fish: ln -sf %q ~/.config/fish/completions/\n' "$fish_dir/strata.fish"
fi
