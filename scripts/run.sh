#!/usr/bin/env bash
# run.sh: sets up, builds and runs a local cell: three celld voters on
# loopback, their data under one folder ($CELL_DATA, default ./data), then two
# batch schedulers and one service scheduler (Raft standbys). It waits for a
# leader, shows the API at work, lets the schedulers place jobs side by side,
# and keeps the cell up until Ctrl-C, which stops every process cleanly
# (schedulers first: they unregister and leave the membership). Running it
# again reuses the data.
#   CELL_DATA=DIR      where the members keep their Raft logs and logs
#   CELL_PORT_BASE=N   ports N+1..N+3 (Raft) and N+11..N+13 (API) for celld,
#                      N+21..N+23 (Raft) and N+31..N+33 (status) for the
#                      schedulers; default 7100
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
sched_pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping the cell..."
	for pid in "${sched_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${sched_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
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
# ---- the schedulers ----
scheds=(batch-1:batch batch-2:batch service-1:service)
cells="http://127.0.0.1:$((base + 11)),http://127.0.0.1:$((base + 12)),http://127.0.0.1:$((base + 13))"
for i in 1 2 3; do
	name=${scheds[$((i - 1))]%%:*}
	class=${scheds[$((i - 1))]##*:}
	"$PWD/build/bin/cellsched" --name "$name" --class "$class" --cell "$cells" \
		--raft-address "127.0.0.1:$((base + 20 + i))" \
		--listen "127.0.0.1:$((base + 30 + i))" \
		--data-dir "$data/sched-$name" --log-file "$data/sched-$name.log" &
	sched_pids+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 1 300); do
		api "http://127.0.0.1:$((base + 30 + i))/v1/status" 2>/dev/null |
			grep -q '"phase": *"running"' && break
		sleep 0.2
	done
done

cat <<MSG

Three schedulers joined as Raft standbys and registered:
  batch-1, batch-2 (class batch: they share the batch jobs by name hash)
  service-1        (class service: scored placement spread across zones)
  status:  http://127.0.0.1:$((base + 31)) .. $((base + 33))/v1/status and /metrics

Now 30 machines in three zones, 20 batch jobs of 50 tasks, 3 service jobs of
6 tasks and one job no machine can hold, all in one transaction:
MSG
ops=""
for i in $(seq 0 29); do
	ops+="{\"op\":\"machine_put\",\"machine\":{\"name\":\"node$i\",\"labels\":{\"zone\":\"z$((i % 3))\"},\"capacity\":{\"cpu\":16000,\"memory\":65536}}},"
done
for i in $(seq 1 20); do
	ops+="{\"op\":\"job_put\",\"job\":{\"name\":\"batch$i\",\"class\":\"batch\",\"tasks\":50,\"resources\":{\"cpu\":200,\"memory\":256},\"duration_ms\":600000}},"
done
for i in 1 2 3; do
	ops+="{\"op\":\"job_put\",\"job\":{\"name\":\"web$i\",\"class\":\"service\",\"priority\":100,\"tasks\":6,\"resources\":{\"cpu\":1000,\"memory\":2048},\"duration_ms\":600000}},"
done
ops+="{\"op\":\"job_put\",\"job\":{\"name\":\"too-big\",\"class\":\"batch\",\"tasks\":1,\"resources\":{\"cpu\":64000,\"memory\":256},\"duration_ms\":1000}}"
answer=$(api -X POST "$leader/v1/txn" -d "{\"ops\":[$ops]}")
echo "${answer:0:120} ..."
index=$(grep -o '"index": *[0-9]*' <<<"$answer" | grep -o '[0-9]*$')
for _ in $(seq 1 100); do # until every scheduler saw it and is idle (20 s)
	busy=0
	for i in 1 2 3; do
		st=$(api "http://127.0.0.1:$((base + 30 + i))/v1/status")
		applied=$(grep -o '"applied_index": *[0-9]*' <<<"$st" | grep -o '[0-9]*$')
		[ "${applied:-0}" -ge "$index" ] || busy=1
		grep -q '"queued": *0, *"inflight": *0' <<<"$st" || busy=1
	done
	[ $busy = 0 ] && break
	sleep 0.2
done
for i in 1 2 3; do show api "http://127.0.0.1:$((base + 30 + i))/v1/status"; done
show "$PWD/build/bin/cellctl" --server "$leader" job get too-big

cat <<MSG

Look around with cellctl (it finds this cell by itself when the port base is
the default 7100; else pass --server $leader):
  ./build/bin/cellctl status
  ./build/bin/cellctl machine list
  ./build/bin/cellctl job get hello
  ./build/bin/cellctl job list
  ./build/bin/cellctl watch

The cell keeps running; press Ctrl-C to stop it.
MSG
wait
