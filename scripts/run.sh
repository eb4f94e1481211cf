#!/usr/bin/env bash
# run.sh: sets up, builds and runs a whole local cell: three celld voters on
# loopback, their data under one folder ($CELL_DATA, default ./data), two
# batch schedulers and one service scheduler (Raft standbys), and three real
# node agents with different labels. It submits a sample of jobs (a service,
# a batch job, a gang, one that fails and is retried), shows them finishing,
# and keeps the cell up until Ctrl-C, which kills the sample jobs (so no task
# outlives the demo), then stops every process cleanly. The daemons run in
# sessions of their own, so a Ctrl-C reaches only this script, which stops
# them in order. Running it again reuses the data.
#   CELL_DATA=DIR      where the members keep their Raft logs and logs
#   CELL_PORT_BASE=N   ports N+1..N+3 (Raft) and N+11..N+13 (API) for celld,
#                      N+21..N+23 (Raft) and N+31..N+33 (status) for the
#                      schedulers, N+41..N+43 for the agents; default 7100
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh build >/dev/null

data=${CELL_DATA:-$PWD/data}
base=${CELL_PORT_BASE:-7100}
celld=$PWD/build/bin/celld
cellctl=$PWD/build/bin/cellctl
mkdir -p "$data"

peers=""
for i in 1 2 3; do
	peers+="${peers:+,}$i=127.0.0.1:$((base + i))=http://127.0.0.1:$((base + 10 + i))"
done
cells="http://127.0.0.1:$((base + 11)),http://127.0.0.1:$((base + 12)),http://127.0.0.1:$((base + 13))"
jobs=(web wordcount train flaky)

pids=()
sched_pids=()
agent_pids=()
stop_all() { # SIGTERM to each pid given, then wait for each
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping the cell: killing the sample jobs first..."
	for j in "${jobs[@]}"; do
		"$cellctl" --server "$cells" job kill "$j" >/dev/null 2>&1 || true
	done
	for i in 1 2 3; do # until each agent has stopped its tasks (10 s)
		for _ in $(seq 1 50); do
			curl -s --max-time 2 "http://127.0.0.1:$((base + 40 + i))/v1/status" 2>/dev/null |
				grep -q '"running": *[1-9]' || break
			sleep 0.2
		done
	done
	stop_all "${agent_pids[@]}"
	stop_all "${sched_pids[@]}"
	stop_all "${pids[@]}"
	echo "stopped; the data stays in $data (run again to resume)"
}
trap stop INT TERM EXIT

for i in 1 2 3; do
	if [ -f "$data/celld$i.pid" ] && kill -0 "$(cat "$data/celld$i.pid")" 2>/dev/null; then
		echo "run.sh: celld $i from an earlier run is still running (pid $(cat "$data/celld$i.pid")); stop it first" >&2
		exit 1
	fi
	setsid "$celld" --id "$i" --raft-address "127.0.0.1:$((base + i))" \
		--listen "127.0.0.1:$((base + 10 + i))" --data-dir "$data/member$i" \
		--peers "$peers" --log-file "$data/celld$i.log" &
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

echo "A cell of three celld voters is up; the leader is $leader."
api "$leader/v1/status" | head -c 400; echo

# ---- the schedulers ----
scheds=(batch-1:batch batch-2:batch service-1:service)
for i in 1 2 3; do
	name=${scheds[$((i - 1))]%%:*}
	class=${scheds[$((i - 1))]##*:}
	setsid "$PWD/build/bin/cellsched" --name "$name" --class "$class" --cell "$cells" \
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

# ---- the node agents ----
zones=(a b c)
for i in 1 2 3; do
	setsid "$PWD/build/bin/cellagent" --name "node$i" --cell "$cells" \
		--labels "zone=${zones[$((i - 1))]},disk=$([ $i = 3 ] && echo ssd || echo hdd)" \
		--cpu 4000 --memory 4096 --listen "127.0.0.1:$((base + 40 + i))" \
		--data-dir "$data/agent-node$i" --log-file "$data/agent-node$i.log" &
	agent_pids+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 1 300); do
		api "http://127.0.0.1:$((base + 40 + i))/v1/status" 2>/dev/null |
			grep -q '"phase": *"watching"' && break
		sleep 0.2
	done
done

cat <<MSG
Three schedulers joined as Raft standbys (batch-1, batch-2: class batch,
sharing jobs by name hash; service-1: class service, spread across zones),
status at http://127.0.0.1:$((base + 31)) .. $((base + 33))/v1/status.
Three node agents registered node1..3 (zones a, b, c; node3 has disk=ssd),
4 cores and 4 GiB each; logs, status and /metrics at
http://127.0.0.1:$((base + 41)) .. $((base + 43)).

$ cellctl machine list
MSG
"$cellctl" --server "$cells" machine list

# ---- the sample jobs ----
for j in "${jobs[@]}"; do # a second run starts them afresh
	"$cellctl" --server "$cells" job kill --purge "$j" >/dev/null 2>&1 || true
done
cat >"$data/sample-jobs.json" <<'JSON'
{"jobs": [
 {"name": "web", "class": "service", "priority": 200, "tasks": 3,
  "resources": {"cpu": 500, "memory": 256},
  "constraints": {"distinct_machines": true},
  "command": "/bin/sh", "args": ["-c", "echo serving on $CELL_MACHINE; while true; do sleep 5; echo still serving; done"]},
 {"name": "wordcount", "class": "batch", "tasks": 6,
  "resources": {"cpu": 250, "memory": 64},
  "command": "/bin/sh", "args": ["-c", "echo task $CELL_TASK counted $(ls /usr/bin | wc -l) programs; sleep 1"]},
 {"name": "train", "class": "batch", "tasks": 3, "gang": true,
  "resources": {"cpu": 1000, "memory": 512},
  "command": "/bin/sh", "args": ["-c", "echo worker $CELL_TASK of 3 on $CELL_MACHINE ready; sleep 2; echo done"]},
 {"name": "flaky", "class": "batch", "tasks": 1, "max_retries": 3,
  "resources": {"cpu": 100, "memory": 32},
  "constraints": {"labels": {"disk": "ssd"}},
  "command": "/bin/sh", "args": ["-c", "if [ $CELL_ATTEMPT -lt 2 ]; then echo attempt $CELL_ATTEMPT fails >&2; exit 1; fi; echo attempt $CELL_ATTEMPT succeeds"]}
]}
JSON
echo
echo "\$ cellctl job submit -f $data/sample-jobs.json"
"$cellctl" --server "$cells" job submit -f "$data/sample-jobs.json"
state() { "$cellctl" --server "$cells" --json job get "$1" | grep -o '"state": *"[a-z]*"' | head -1 | grep -o '[a-z]*"$' | tr -d '"'; }
for _ in $(seq 1 300); do # until the three finite jobs end and web runs (60 s)
	done=1
	for j in wordcount train flaky; do
		case $(state $j) in succeeded | failed) ;; *) done=0 ;; esac
	done
	[ "$(state web)" = running ] || done=0
	[ $done = 1 ] && break
	sleep 0.2
done
echo
echo "\$ cellctl job list"
"$cellctl" --server "$cells" job list
echo
echo "\$ cellctl task list --job flaky   (attempts 0 and 1 failed, attempt 2 succeeded)"
"$cellctl" --server "$cells" task list --job flaky
echo
echo "\$ cellctl task logs flaky 0; cellctl task logs flaky 0 --attempt 0 --stderr"
"$cellctl" --server "$cells" task logs flaky 0
"$cellctl" --server "$cells" task logs flaky 0 --attempt 0 --stderr
echo "\$ cellctl task logs train 1"
"$cellctl" --server "$cells" task logs train 1

cat <<MSG

Look around with cellctl (it finds this cell by itself when the port base is
the default 7100; else pass --server $cells):
  ./build/bin/cellctl status
  ./build/bin/cellctl machine list
  ./build/bin/cellctl job get web
  ./build/bin/cellctl task logs web 0
  ./build/bin/cellctl watch
  curl -s http://127.0.0.1:$((base + 41))/v1/status     (node1's agent)

The cell keeps running (web serves until killed); press Ctrl-C to stop it.
MSG
wait
