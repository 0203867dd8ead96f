NEPHO_BOOTSTRAP_EOF
# The handoff: run the bootstrap with its inputs, log it, and signal CloudFormation:
# one SUCCESS signal per NEPHO_PHASE line as its phase starts (UniqueId phase-N-of-T),
# then the final SUCCESS, or FAILURE with the exit status and the log's last lines.
# With /etc/nepho/phase-url (the NephoPhaseURL parameter), it also PUTs the phase lines so far
# there after each phase, and with a NEPHO_RESULT line at the end: the phase record nepho reads.
# An undelivered signal or record is reported on standard error and changes nothing else.
umask 022
log=/var/log/nepho-bootstrap.log
touch "$log"
start=$(($(stat -c %s "$log") + 1))
retries=${NEPHO_SIGNAL_RETRIES:-4} final_retries=${NEPHO_SIGNAL_RETRIES:-10}
put() { # URL_FILE CONTENT_TYPE BODY RETRIES MAX_SECONDS WHAT
  # The presigned URL goes to curl on standard input: never on a command line or in a log.
  printf 'url = "%s"\n' "$(cat "$1")" |
    curl -sSf -o /dev/null -K - --retry "$4" --retry-all-errors --retry-max-time "$5" -m 20 \
      -X PUT -H "Content-Type:$2" --data-binary "$3" 2>/dev/null ||
    echo "nepho: $6 not delivered (curl exit status $?)" >&2
}
signal() { # STATUS UNIQUE_ID REASON DATA RETRIES MAX_SECONDS
  local body
  body=$(python3 -c 'import json,sys; print(json.dumps({"Status": sys.argv[1], "UniqueId": sys.argv[2], "Reason": sys.argv[3][-1000:], "Data": sys.argv[4][-1000:]}))' "$1" "$2" "$3" "$4") || return 1
  put /etc/nepho/signal-url '' "$body" "$5" "$6" "signal $2"
}
record() { # [RESULT_LINE] RETRIES MAX_SECONDS: the phase record, when nepho asked for one
  [ -s /etc/nepho/phase-url ] && [ "$(head -c 4 /etc/nepho/phase-url)" = http ] || return 0
  put /etc/nepho/phase-url ' text/plain' "$(tail -c "+$start" "$log" | grep '^NEPHO_PHASE '; printf '%s' "$1")" "$2" "$3" "phase record"
}
phase_id() { [[ $1 =~ ^NEPHO_PHASE\ ([1-9][0-9]*)/([1-9][0-9]*)\ . ]] && echo "phase-${BASH_REMATCH[1]}-of-${BASH_REMATCH[2]}"; }
mapfile -t inputs < <(grep -v '^$' /etc/nepho/bootstrap.env)
(env "${inputs[@]}" bash /etc/nepho/bootstrap.sh </dev/null 2>&1 | tee -a "$log"; exit "${PIPESTATUS[0]}") &
boot=$!
# Phase signals follow the log file, so a slow or failing signal never holds the bootstrap up.
tail -c "+$start" --pid="$boot" -f "$log" 2>/dev/null | grep --line-buffered '^NEPHO_PHASE ' |
  while IFS= read -r line; do
    id=$(phase_id "$line") && signal SUCCESS "$id" "$line" "$line" "$retries" 60 && record '' "$retries" 60
  done
wait "$boot"
status=$?
phases=$(tail -c "+$start" "$log" | grep '^NEPHO_PHASE ' || true)
last_phase=$(tail -n 1 <<<"$phases")
if [ "$status" -eq 0 ] && [[ $last_phase =~ ^NEPHO_PHASE\ [0-9]+/([1-9][0-9]*)\  ]]; then
  # The wait condition counts one signal per phase: signal the phases the script skipped.
  total=${BASH_REMATCH[1]}
  for ((n = 1; n <= total; n++)); do
    grep -q "^NEPHO_PHASE $n/$total " <<<"$phases" ||
      signal SUCCESS "phase-$n-of-$total" "NEPHO_PHASE $n/$total (skipped)" "NEPHO_PHASE $n/$total (skipped)" "$retries" 60
  done
fi
token=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token 2>/dev/null || true)
instance=$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id 2>/dev/null || echo unknown)
if [ "$status" -eq 0 ]; then
  record 'NEPHO_RESULT SUCCESS bootstrap finished' "$final_retries" 600
  signal SUCCESS "$instance" "bootstrap finished: $last_phase" "$last_phase" "$final_retries" 600
else
  record "NEPHO_RESULT FAILURE bootstrap failed with status $status" "$final_retries" 600
  signal FAILURE "$instance" "bootstrap failed with status $status during ${last_phase:-no phase}
$(tail -n 5 "$log" | tail -c 800)" "$last_phase" "$final_retries" 600
fi
exit "$status"
