/* results.h: the CSV rows cellbench writes and reads back (one row per
 * point), shared by `cellbench run` (writer) and `cellbench plot` (reader).
 *
 * Units: every duration and rate of the workload is in cell time (the
 * measured wall-clock figure multiplied by time_scale), so rows at different
 * time scales compare directly. Two exceptions are properties of the
 * machine, not of the workload, and stay in wall-clock time: the commit
 * latency (commit_p50_ms, commit_p99_ms) and wall_s, how long the point took
 * to run. An empty field means "not measured at this point" (for instance
 * busy_service when the point has no service scheduler).
 *
 * The columns, in file order (the header row names them):
 *   run                 when the run started, UTC, ISO 8601: one value for
 *                       every row of one `cellbench run`
 *   experiment, point   experiment name and the point's index in it
 *   seed, time_scale    workload seed; the factor dividing every duration
 *   voters, machines    celld voters; hollow machines
 *   batch_scheds, service_scheds   scheduler processes of each class
 *   detect, mode        conflict detection (fine|coarse) and commit mode
 *                       (incremental|all_or_nothing) of the schedulers
 *   batch_t_job_s, service_t_job_s, t_task_s   Omega's decision times
 *   batch_jobs_per_s, service_jobs_per_s       arrival rates
 *   offered_tasks_per_s tasks submitted per second of the window
 *   window_s            length of the arrival window
 *   jobs_submitted, tasks_submitted            during the window
 *   jobs_placed         jobs whose every task got a machine
 *   jobs_never_placed   jobs with a task that never got one by the end of
 *                       the drain (jobs_placed + jobs_never_placed ==
 *                       jobs_submitted)
 *   tasks_placed, tasks_never_placed           the same for tasks
 *   txns, txns_conflicted   schedulers' answered transactions; those with
 *                       a rejected op
 *   conflict_fraction   txns_conflicted per transaction that committed
 *                       something (Omega's definition; may exceed 1),
 *                       all schedulers; _batch and _service per class
 *   task_conflict_fraction   rejected placements per attempted placement
 *                       (0..1)
 *   busy_batch_median, busy_batch_min, busy_batch_max   busyness (0..1)
 *                       of the batch schedulers: median and spread
 *   busy_service        busyness of the service scheduler
 *   busy_service_estimate   the no-conflict estimate
 *                       lambda x (t_job + tasks x t_task) from the service
 *                       jobs actually submitted
 *   wait_mean_s, wait_p90_s   job wait: submission to the first
 *                       scheduling attempt (Omega's definition)
 *   placements_per_s    placements committed per second of the window
 *   commit_p50_ms, commit_p99_ms   celld's commit latency (wall clock)
 *   all_placed_s, all_running_s   from the first submission until every
 *                       task was placed / running (c1m)
 *   running_tasks_per_s tasks_submitted / all_running_s (c1m)
 *   wall_s              wall-clock seconds the point took, set-up and
 *                       tear-down included
 *   command             the exact command line of the run */
#ifndef CELL_BENCH_RESULTS_H
#define CELL_BENCH_RESULTS_H

#include <stddef.h>

#define CB_COLUMNS(X)                                                          \
	X(run)                                                                 \
	X(experiment)                                                          \
	X(point)                                                               \
	X(seed)                                                                \
	X(time_scale)                                                          \
	X(voters)                                                              \
	X(machines)                                                            \
	X(batch_scheds)                                                        \
	X(service_scheds)                                                      \
	X(detect)                                                              \
	X(mode)                                                                \
	X(batch_t_job_s)                                                       \
	X(service_t_job_s)                                                     \
	X(t_task_s)                                                            \
	X(batch_jobs_per_s)                                                    \
	X(service_jobs_per_s)                                                  \
	X(offered_tasks_per_s)                                                 \
	X(window_s)                                                            \
	X(jobs_submitted)                                                      \
	X(tasks_submitted)                                                     \
	X(jobs_placed)                                                         \
	X(jobs_never_placed)                                                   \
	X(tasks_placed)                                                        \
	X(tasks_never_placed)                                                  \
	X(txns)                                                                \
	X(txns_conflicted)                                                     \
	X(conflict_fraction)                                                   \
	X(conflict_fraction_batch)                                             \
	X(conflict_fraction_service)                                           \
	X(task_conflict_fraction)                                              \
	X(busy_batch_median)                                                   \
	X(busy_batch_min)                                                      \
	X(busy_batch_max)                                                      \
	X(busy_service)                                                        \
	X(busy_service_estimate)                                               \
	X(wait_mean_s)                                                         \
	X(wait_p90_s)                                                          \
	X(placements_per_s)                                                    \
	X(commit_p50_ms)                                                       \
	X(commit_p99_ms)                                                       \
	X(all_placed_s)                                                        \
	X(all_running_s)                                                       \
	X(running_tasks_per_s)                                                 \
	X(wall_s)                                                              \
	X(command)

#define CB_COL_ENUM(name) CB_##name,
enum cb_col { CB_COLUMNS(CB_COL_ENUM) CB_NCOLS };
#undef CB_COL_ENUM

/* Column names in file order ("run", "experiment", ...). */
extern const char *const cb_col_names[CB_NCOLS];

/* One point. Every field is a malloc'd string owned by the row, or NULL
 * (written as an empty field). */
struct cb_row {
	char *v[CB_NCOLS];
};
void cb_row_set(struct cb_row *r, enum cb_col c, const char *value);
void cb_row_setf(struct cb_row *r, enum cb_col c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A number with up to 6 significant digits; NaN or infinity: empty. */
void cb_row_setd(struct cb_row *r, enum cb_col c, double v);
void cb_row_clear(struct cb_row *r); /* frees the fields */

/* Appends row to path, writing the header first when the file is new or
 * empty. A file whose header differs is refused (0 or -1, message in
 * errbuf) rather than mixed. Fields with a comma, quote or newline are
 * quoted, quotes doubled (RFC 4180). */
int cb_csv_append(const char *path, const struct cb_row *row, char *errbuf,
                  size_t errlen);
/* Reads every row of path. The header must name exactly these columns in
 * this order. *rows is malloc'd (free with cb_rows_free). 0 or -1 with a
 * message naming the file, line and what was wrong. */
int cb_csv_read(const char *path, struct cb_row **rows, size_t *nrows,
                char *errbuf, size_t errlen);
void cb_rows_free(struct cb_row *rows, size_t nrows);

#endif
