#!/usr/bin/env bash
# The whole job on the KKBox churn data of Kaggle's WSDM Cup 2018 (or samples of it): ingest the
# directory's CSV files, build the W1 training set, train and register a churn model, promote it, and
# score the users of sample_submission_v2.csv into OUT/submission.csv (or, without one, the labelled
# users of the last cutoff into OUT/predictions.csv). Every command is printed before it runs, in a form
# that can be pasted back into a shell.
set -euo pipefail
export LC_COLLATE=C
start_ns=$(date +%s%N)
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/tools/cmdline.sh"

usage() {
  cat <<'EOF'
Usage: tools/kaggle.sh DIR [--db STORE] [--out OUT] [--features FILE] [--labels-cutoff DAY] [--dry-run]

DIR holds the CSV files as Kaggle ships them (members_v3.csv, transactions.csv, transactions_v2.csv,
user_logs.csv, user_logs_v2.csv, train.csv, train_v2.csv, sample_submission_v2.csv) or samples of them
under other names. Each CSV file is recognised by its header line:
  members       msno,city,bd,gender,registered_via,registration_init_time
  transactions  msno,payment_method_id,...
  user_logs     msno,date,...
  labels        msno,is_churn; its cutoff comes from its name:
                  sample_submission_v2*  the submission (table submission, cutoff 20170401)
                  *v2*                   train_v2.csv, March 2017 expiries (cutoff 20170301)
                  any other name         train.csv, February 2017 expiries (cutoff 20170201,
                                         or --labels-cutoff)
Members, transactions, user_logs and labels are required; other files are listed and ignored.

Options:
  --db STORE            The store to create (default: OUT/store); it must not exist yet or be empty.
  --out OUT             Where submission.csv or predictions.csv go (default: ./kaggle-out).
  --features FILE       Feature view (default: fixtures/features/w1.yaml of this repository).
  --labels-cutoff DAY   Cutoff of labels files whose name has no v2 (default: 20170201).
  --dry-run             Print what was recognised and the commands, run nothing.
  -h, --help            Show this help.

The strata binary: $STRATA_BIN, else strata on PATH, else .build/release/strata of this repository,
else it is built (swift build -c release --product strata).
EOF
}

die_usage() {
  echo "kaggle.sh: error: $1" >&2
  usage >&2
  exit 2
}
die() {
  echo "kaggle.sh: error: $1" >&2
  exit 1
}

dir='' db='' out='kaggle-out' dry_run=0
features=$repo/fixtures/features/w1.yaml
labels_cutoff=20170201
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --dry-run) dry_run=1 ;;
    --db|--out|--features|--labels-cutoff)
      if [ $# -lt 2 ] || [ -z "$2" ]; then die_usage "$1 needs a value"; fi
      case $1 in
        --db) db=$2 ;;
        --out) out=$2 ;;
        --features) features=$2 ;;
        --labels-cutoff) labels_cutoff=$2 ;;
      esac
      shift ;;
    --db=*|--out=*|--features=*|--labels-cutoff=*)
      value=${1#*=}
      [ -n "$value" ] || die_usage "${1%%=*} needs a value"
      case $1 in
        --db=*) db=$value ;;
        --out=*) out=$value ;;
        --features=*) features=$value ;;
        --labels-cutoff=*) labels_cutoff=$value ;;
      esac ;;
    -*) die_usage "unknown option '$1'" ;;
    *)
      [ -z "$dir" ] || die_usage "one DIR only (got '$dir' and '$1')"
      dir=$1 ;;
  esac
  shift
done
[ -n "$dir" ] || die_usage "DIR is missing"
[ -d "$dir" ] || die "$dir is not a directory"
[ -r "$features" ] || die "feature view $features cannot be read"
labels_cutoff=${labels_cutoff//-/}
[[ $labels_cutoff =~ ^[0-9]{8}$ ]] || die_usage "--labels-cutoff must be a date as YYYYMMDD or YYYY-MM-DD"
# A real calendar day, checked before anything is ingested (GNU date refuses 20170230).
date -d "${labels_cutoff:0:4}-${labels_cutoff:4:2}-${labels_cutoff:6:2}" +%F >/dev/null 2>&1 \
  || die_usage "--labels-cutoff $labels_cutoff is not a calendar date"
db=${db:-$out/store}

# ---- Recognise the files by their header line (a UTF-8 BOM and a CR are ignored only here). ----
members_header='msno,city,bd,gender,registered_via,registration_init_time'
members=() transactions=() user_logs=() submission=() ignored=()
declare -A labels_by_cutoff=()
label_cutoffs=()
recognised=()

shopt -s nullglob nocaseglob
csv_files=("${dir%/}"/*.csv)
shopt -u nullglob nocaseglob

empty=()
for file in "${csv_files[@]}"; do
  [ -f "$file" ] || continue
  if [ ! -s "$file" ]; then
    empty+=("$file")
    continue
  fi
  header=''
  IFS= read -r header <"$file" || true
  header=${header#$'\xEF\xBB\xBF'}
  header=${header%$'\r'}
  name=$(basename "$file")
  lower=${name,,}
  note=''
  case $header in
    "$members_header") table=members; members+=("$file") ;;
    msno,payment_method_id,*) table=transactions; transactions+=("$file") ;;
    msno,date,*) table=user_logs; user_logs+=("$file") ;;
    msno,is_churn)
      case $lower in
        sample_submission_v2*) table=submission; submission+=("$file"); note='cutoff 2017-04-01' ;;
        sample_submission*) table=ignored; ignored+=("$file"); note="not sample_submission_v2: the first stage's test set" ;;
        *)
          table=labels
          case $lower in
            *v2*) cutoff=20170301; note='cutoff 2017-03-01: named *v2*, taken as train_v2.csv, March 2017 expiries' ;;
            *)
              cutoff=$labels_cutoff
              if [ "$cutoff" = 20170201 ]; then
                note='cutoff 2017-02-01: taken as train.csv, February 2017 expiries'
              else
                note="cutoff $cutoff: --labels-cutoff"
              fi ;;
          esac
          if [ -z "${labels_by_cutoff[$cutoff]+set}" ]; then
            label_cutoffs+=("$cutoff")
            labels_by_cutoff[$cutoff]=''
          fi
          labels_by_cutoff[$cutoff]+="$file"$'\n' ;;
      esac ;;
    *)
      table=ignored; ignored+=("$file")
      note="header: ${header:0:60}"; [ ${#header} -le 60 ] || note+='…' ;;
  esac
  recognised+=("$(printf '  %-13s %s%s' "$table" "$(quote_arg "$name")" "${note:+  ($note)}")")
done

echo "kaggle.sh: in $(quote_arg "$dir"):"
if [ ${#recognised[@]} -eq 0 ]; then
  echo "  no CSV files"
else
  printf '%s\n' "${recognised[@]}"
fi

# An empty file is a failed download or copy, not a table to leave out: say so and stop.
if [ ${#empty[@]} -gt 0 ]; then
  die "empty file (0 bytes): ${empty[*]}; download or copy it again, or move it out of $dir"
fi

missing=()
[ ${#members[@]} -gt 0 ] || missing+=("members ($members_header)")
[ ${#transactions[@]} -gt 0 ] || missing+=("transactions (msno,payment_method_id,…)")
[ ${#user_logs[@]} -gt 0 ] || missing+=("user_logs (msno,date,…)")
[ ${#label_cutoffs[@]} -gt 0 ] || missing+=("labels (msno,is_churn, e.g. train.csv)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "kaggle.sh: error: $dir has no CSV file of:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "(the header line of each CSV file says what it is; see tools/kaggle.sh --help)" >&2
  exit 1
fi
if [ ${#submission[@]} -gt 1 ]; then
  die "more than one submission file: ${submission[*]}"
fi

# The cutoffs in date order; the last one is the month predictions.csv is for.
mapfile -t label_cutoffs < <(printf '%s\n' "${label_cutoffs[@]}" | sort)
last_cutoff=${label_cutoffs[${#label_cutoffs[@]}-1]}

# ---- The store must be new: the commands below number the model version 1. ----
if [ -e "$db" ] && { [ ! -d "$db" ] || [ -n "$(ls -A "$db")" ]; }; then
  message="the store $db already exists; remove it or give another --db (kaggle.sh builds a new store)"
  [ "$dry_run" -eq 1 ] || die "$message"
  echo "kaggle.sh: note: $message"
fi

# ---- The strata binary. ----
if [ -n "${STRATA_BIN:-}" ]; then
  [ -x "$STRATA_BIN" ] || die "STRATA_BIN=$STRATA_BIN is not an executable file"
  strata=$STRATA_BIN
elif command -v strata >/dev/null 2>&1; then
  strata=strata
elif [ -x "$repo/.build/release/strata" ]; then
  strata=$repo/.build/release/strata
elif [ "$dry_run" -eq 1 ]; then
  strata=$repo/.build/release/strata
  echo "kaggle.sh: no strata binary yet; a real run builds $strata first"
else
  command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
  command -v swift >/dev/null 2>&1 || die "no strata binary and no swift to build one (set STRATA_BIN or install Swift 6)"
  step "$repo/tools/setup.sh"
  show_cmd swift build --package-path "$repo" -c release --product strata
  swift build --package-path "$repo" -c release --product strata
  strata=$repo/.build/release/strata
fi
version=$("$strata" --version 2>/dev/null) || version="(no --version)"
echo "kaggle.sh: strata is $(command -v "$strata" 2>/dev/null || echo "$strata") $version"

# run CMD ARGS…: print it and run it (only print it with --dry-run).
run() {
  if [ "$dry_run" -eq 1 ]; then show_cmd "$@"; else step "$@"; fi
}
# run_to FILE CMD ARGS…: the same, stdout into FILE (written whole or not at all).
run_to() {
  local file=$1
  shift
  printf '\n%s$ %s > %s%s\n' "$cmdline_bold" "$(quote_cmd "$@")" "$(quote_arg "$file")" "$cmdline_reset"
  [ "$dry_run" -eq 0 ] || return 0
  "$@" >"$file.partial"
  mv -f "$file.partial" "$file"
  echo "wrote $file: $(awk 'END { print NR - 1 }' "$file") rows"
}

if [ "$dry_run" -eq 0 ]; then
  mkdir -p "$out"
fi

# ---- Ingest: the event tables in one commit, then the labels of each cutoff, then the submission. ----
run "$strata" ingest --db "$db" "${members[@]}" "${transactions[@]}" "${user_logs[@]}"
for cutoff in "${label_cutoffs[@]}"; do
  mapfile -t files < <(printf '%s' "${labels_by_cutoff[$cutoff]}")
  run "$strata" ingest --db "$db" --cutoff "$cutoff" "${files[@]}"
done
if [ ${#submission[@]} -eq 1 ]; then
  run "$strata" ingest --db "$db" --table submission --cutoff 20170401 "${submission[0]}"
fi

# ---- Training set, model, registry. ----
run "$strata" training-set --db "$db" --features "$features" --labels labels --out w1
run "$strata" train --db "$db" --training-set w1 --register churn
run "$strata" models promote --db "$db" churn 1 --stage production

# ---- Scores. ----
if [ ${#submission[@]} -eq 1 ]; then
  result=$out/submission.csv
  run "$strata" training-set --db "$db" --features "$features" --labels submission --out submission_features
  run "$strata" predict --db "$db" --model churn@production --training-set submission_features --out submission_scores
  # One row per msno, as Kaggle expects, even when the submission file lists a user twice.
  run_to "$result" "$strata" query --db "$db" "SELECT msno, max(churn_probability) AS is_churn FROM submission_scores GROUP BY msno ORDER BY msno" --format csv
  # Users with no history before the cutoff (no members row, no transaction, no listening in 90 days) get
  # the model's answer for an empty vector: say how many (W1's columns; skipped for another view).
  unseen=$("$strata" query --db "$db" "SELECT count(DISTINCT msno) AS n FROM submission_features WHERE city IS NULL AND last_payment_method_id IS NULL AND w90_active_days = 0" --format csv 2>/dev/null | tail -n 1) || unseen=''
  if [ -n "$unseen" ] && [ "$unseen" != 0 ]; then
    echo "kaggle.sh: warning: $unseen users of ${submission[0]} have no members row, no transaction and no listening before 2017-04-01; their scores rest on no history" >&2
  fi
  if [ "$dry_run" -eq 0 ]; then
    # Kaggle scores a submission only with every msno of sample_submission_v2.csv in it.
    expected=$(tail -n +2 "${submission[0]}" | cut -d, -f1 | tr -d '\r' | sort -u | wc -l)
    written=$(awk 'END { print NR - 1 }' "$result")
    if [ "$expected" != "$written" ]; then
      echo "kaggle.sh: warning: $result has $written rows, ${submission[0]} has $expected" >&2
    fi
  fi
else
  result=$out/predictions.csv
  day="${last_cutoff:0:4}-${last_cutoff:4:2}-${last_cutoff:6:2}"
  run "$strata" predict --db "$db" --model churn@production --training-set w1 --out predictions
  run_to "$result" "$strata" query --db "$db" "SELECT * FROM predictions WHERE cutoff_date = DATE '$day' ORDER BY msno" --format csv
fi

elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
if [ $elapsed_ms -lt 60000 ]; then
  elapsed=$(printf '%d.%d s' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)))
else
  elapsed=$(printf '%d min %d s' $((elapsed_ms / 60000)) $((elapsed_ms % 60000 / 1000)))
fi
echo
if [ "$dry_run" -eq 1 ]; then
  echo "kaggle.sh: dry run, nothing was run ($elapsed)"
  exit 0
fi
echo "kaggle.sh: done in $elapsed"
echo "  scores: $result"
echo "  store:  $db; explore it with:"
case $strata in
  */*) echo "    export PATH=$(quote_arg "$(cd "$(dirname "$strata")" && pwd)"):\$PATH" ;;
esac
echo "    strata tables --db $(quote_arg "$db")"
echo "    strata runs list --db $(quote_arg "$db")"
