# shellcheck shell=bash
# Sourced by tools/demo.sh and tools/kaggle.sh: print a command in a form a shell takes back as it is
# (every argument quoted where it needs it), then run it. Bold only when stdout is a terminal and
# NO_COLOR is unset or empty (no-color.org, as the strata binary does).

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  cmdline_bold=$'\033[1m' cmdline_reset=$'\033[0m'
else
  cmdline_bold='' cmdline_reset=''
fi

# One argument as shell text: bare when it has only characters no shell treats specially, in double
# quotes when nothing inside them would expand (SQL with '…' literals reads as written), else in single
# quotes with each ' written as '\''.
quote_arg() {
  local arg=$1 squote="'\\''"
  if [[ $arg =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$arg"
  elif [[ $arg != *[\"\$\`\\!]* ]]; then
    printf '"%s"' "$arg"
  else
    printf "'%s'" "${arg//\'/$squote}"
  fi
}

# The whole command line, arguments separated by one space.
quote_cmd() {
  local arg sep=''
  for arg in "$@"; do
    printf '%s' "$sep"
    quote_arg "$arg"
    sep=' '
  done
}

# show_cmd CMD ARGS…: a blank line and `$ CMD ARGS…` (bold on a terminal).
show_cmd() {
  printf '\n%s$ %s%s\n' "$cmdline_bold" "$(quote_cmd "$@")" "$cmdline_reset"
}

# step CMD ARGS…: show_cmd, then the command itself.
step() {
  show_cmd "$@"
  "$@"
}
