#!/usr/bin/env bash
# run.sh: sets up, builds and runs a local cell: three celld voters on
# loopback, their data under one folder ($CELL_DATA, default ./data). It waits
# for a leader, shows the API at work, and keeps the cell up until Ctrl-C,
# which stops every member cleanly. Running it again reuses the data.
#   CELL_DATA=DIR      where the members keep their Raft logs and logs
#   CELL_PORT_BASE=N   ports N+1..N+3 (Raft) and N+11..N+13 (API); 7100
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh build >/dev/null

data=${CELL_DATA:-$PWD/data}
base=${CELL_PORT_BASE:-7100}
celld=$PWD/build/bin/celld
mkdir -p "$data"

peers=""
for i in 1 2 3; do
	peers+="${peers:+,}$i=127.0.0.1:$((base + i))=http://127.0.0.1:$((base + 10 + i))"
done

pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping the cell..."
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	echo "stopped; the data stays in $data (run again to resume)"
}
trap stop INT TERM EXIT

for i in 1 2 3; do
	if [ -f "$data/celld$i.pid" ] && kill -0 "$(cat "$data/celld$i.pid")" 2>/dev/null; then
		echo "run.sh: celld $i from an earlier run is still running (pid $(cat "$data/celld$i.pid")); stop it first" >&2
		exit 1
	fi
	"$celld" --id "$i" --raft-address "127.0.0.1:$((base + i))" \
		--listen "127.0.0.1:$((base + 10 + i))" --data-dir "$data/member$i" \
		--peers "$peers" --machine-ttl 0 --log-file "$data/celld$i.log" &
	pids+=($!)
	echo $! >"$data/celld$i.pid"
done

api() { curl -sS --max-time 10 -L "$@"; }
leader=""
for _ in $(seq 1 150); do
	for i in 1 2 3; do
		url="http://127.0.0.1:$((base + 10 + i))"
		if api "$url/v1/status" 2>/dev/null | grep -q '"trusted": *true'; then
			leader=$url
		fi
	done
	[ -n "$leader" ] && break
	sleep 0.2
done
if [ -z "$leader" ]; then
	echo "run.sh: no leader after 30 s; see $data/celld*.log" >&2
	exit 1
fi

cat <<MSG
A cell of three celld voters is up.
  API:     http://127.0.0.1:$((base + 11)) .. $((base + 13)) (any member; writes go to the leader, now $leader)
  data:    $data (member1..3, celld1..3.log)
  stop:    Ctrl-C (each member closes its Raft log cleanly)

A few requests (curl -L follows a follower's redirect to the leader; the
coarse place is refused because it carries a stale machine seq):
MSG
show() { echo "\$ $*"; "$@" | head -c 600; echo; }
show api "$leader/v1/status"
show api -X PUT "$leader/v1/machines/m1" -d '{"pool":"default","labels":{"zone":"a"},"capacity":{"cpu":4000,"memory":8192}}'
show api -X POST "$leader/v1/jobs" -d '{"name":"hello","class":"batch","tasks":2,"resources":{"cpu":1000,"memory":512},"command":"/bin/echo","args":["hello"]}'
show api -X POST "$leader/v1/txn" -d '{"id":"demo-1","detect":"coarse","ops":[{"op":"place","job":"hello","task":0,"machine":"m1","seq":999}]}'
follower=http://127.0.0.1:$((base + 11))
[ "$follower" = "$leader" ] && follower=http://127.0.0.1:$((base + 12))
show api -X POST "$follower/v1/txn" -d '{"id":"demo-2","ops":[{"op":"place","job":"hello","task":1,"machine":"m1"}]}'
show api "$leader/v1/tasks?job=hello&state=assigned"
echo "\$ curl -N $follower/v1/watch?from=1   (the committed changes, as NDJSON)"
curl -sN --max-time 1 "$follower/v1/watch?from=1" || true
cat <<MSG

Look around with cellctl (it finds this cell by itself when the port base is
the default 7100; else pass --server $leader):
  ./build/bin/cellctl status
  ./build/bin/cellctl machine list
  ./build/bin/cellctl job get hello
  ./build/bin/cellctl watch

The cell keeps running; press Ctrl-C to stop it.
MSG
wait
