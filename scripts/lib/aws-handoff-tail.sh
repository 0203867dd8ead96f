NEPHO_BOOTSTRAP_EOF
# The handoff: run the bootstrap with its inputs, log it, and signal CloudFormation:
# one SUCCESS signal per NEPHO_PHASE line as its phase starts (UniqueId phase-N-of-T),
# then the final SUCCESS, or FAILURE with the exit status and the log's last lines.
# An undelivered signal is reported on standard error and changes nothing else.
umask 022
log=/var/log/nepho-bootstrap.log
touch "$log"
start=$(($(stat -c %s "$log") + 1))
retries=${NEPHO_SIGNAL_RETRIES:-4} final_retries=${NEPHO_SIGNAL_RETRIES:-10}
signal() { # STATUS UNIQUE_ID REASON DATA RETRIES MAX_SECONDS
  local body code
  body=$(python3 -c 'import json,sys; print(json.dumps({"Status": sys.argv[1], "UniqueId": sys.argv[2], "Reason": sys.argv[3][-1000:], "Data": sys.argv[4][-1000:]}))' "$1" "$2" "$3" "$4") || return 1
  # The presigned URL goes to curl on standard input: never on a command line or in a log.
  printf 'url = "%s"\n' "$(cat /etc/nepho/signal-url)" |
    curl -sSf -o /dev/null -K - --retry "$5" --retry-all-errors --retry-max-time "$6" -m 20 \
      -X PUT -H 'Content-Type:' --data-binary "$body" 2>/dev/null
  code=$?
  [ "$code" -eq 0 ] || echo "nepho: signal $2 not delivered (curl exit status $code)" >&2
  return 0
}
phase_id() { [[ $1 =~ ^NEPHO_PHASE\ ([1-9][0-9]*)/([1-9][0-9]*)\ . ]] && echo "phase-${BASH_REMATCH[1]}-of-${BASH_REMATCH[2]}"; }
mapfile -t inputs < <(grep -v '^$' /etc/nepho/bootstrap.env)
(env "${inputs[@]}" bash /etc/nepho/bootstrap.sh </dev/null 2>&1 | tee -a "$log"; exit "${PIPESTATUS[0]}") &
boot=$!
# Phase signals follow the log file, so a slow or failing signal never holds the bootstrap up.
tail -c "+$start" --pid="$boot" -f "$log" 2>/dev/null | grep --line-buffered '^NEPHO_PHASE ' |
  while IFS= read -r line; do
    id=$(phase_id "$line") && signal SUCCESS "$id" "$line" "$line" "$retries" 60
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
  signal SUCCESS "$instance" "bootstrap finished: $last_phase" "$last_phase" "$final_retries" 600
else
  signal FAILURE "$instance" "bootstrap failed with status $status during ${last_phase:-no phase}
$(tail -n 5 "$log" | tail -c 800)" "$last_phase" "$final_retries" 600
fi
exit "$status"
