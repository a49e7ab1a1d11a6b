// tasklane sim --seed N --steps M [--faults] [-o TRACE]: a random agent workload through the
// simulation driver, judged by the invariant checker.
#include <ostream>

#include "agent_workload.hpp"
#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "tasklane/drivers/invariants.hpp"
#include "trace_check.hpp"

namespace tasklane::cli {
namespace {

const char* const usage =
    "usage: tasklane sim [--seed N] [--steps M] [--faults] [--max-running K] [-o TRACE] [--progress]\n"
    "  Runs a random agent workload (sessions spawning summaries, memory writes in a sequence lane,\n"
    "  compaction under a quota, sub-agents with inboxes, embeddings with retries; cancels and\n"
    "  flushes) through the deterministic simulation driver, checks the kernel's invariants, and\n"
    "  prints every violation. The same seed gives the same run.\n"
    "  --seed N         the run's seed (default 1)\n"
    "  --steps M        user actions and time jumps (default 1000)\n"
    "  --faults         work also fails, runs past its timeout, hangs, is slow to cancel; and the\n"
    "                   simulation's fault sites are on: late and early timers, duplicated and\n"
    "                   stale completions, failing commits, and crashes that restart from what\n"
    "                   the store kept. At the end faults stop and every task must end\n"
    "  --max-running K  Config::max_running (default 4)\n"
    "  -o, --output F   write the run as a trace (tasklane replay F shows the same violations,\n"
    "                   tasklane trace F -o out.json draws it). Without -o, a run with violations is\n"
    "                   written to tasklane-sim-SEED.trace\n"
    "  --progress       draw a progress bar on stderr even when it is not a terminal\n";

}  // namespace

int sim_command(const Args& args, Console& console) {
  std::string problem;
  const auto options = parse_options(args, {{"--faults"}, {"--seed", "--steps", "--max-running", "--output"}}, problem);
  if (!options) return bad_usage(console, "sim", problem, usage);
  if (options->help) return print_help(console, usage);
  if (!options->positional.empty()) return bad_usage(console, "sim", "takes no file argument: " + options->positional[0], usage);
  WorkloadOptions workload;
  const auto seed = number_option(*options, "--seed", 1, problem);
  const auto steps = number_option(*options, "--steps", 1000, problem);
  const auto max_running = number_option(*options, "--max-running", 4, problem);
  if (!seed || !steps || !max_running) return bad_usage(console, "sim", problem, usage);
  if (*max_running == 0) return bad_usage(console, "sim", "--max-running must be at least 1", usage);
  workload.seed = *seed;
  workload.steps = *steps;
  workload.faults = options->has("--faults");
  workload.max_running = static_cast<std::size_t>(*max_running);

  WorkloadRun run;
  {
    ProgressBar bar(console, options->progress, "simulating", workload.steps);
    run = run_agent_workload(workload, [&](std::uint64_t done, std::uint64_t) { bar.update(done); });
  }
  const KernelStats& s = run.stats;
  console.out << "sim: seed " << workload.seed << ", " << workload.steps << " steps" << (workload.faults ? " with faults" : "")
              << ", " << run.trace.size() << " inputs, " << run.commands << " commands, " << run.restarts.size()
              << " restarts, virtual time " << sim::format_time(run.end) << "\n"
              << "  tasks: " << s.spawned << " spawned, " << s.refused << " refused, " << s.started << " started, "
              << s.completed << " completed, " << s.failed << " failed, " << s.cancelled << " cancelled, " << s.timed_out
              << " timed out, " << s.retried << " retried, " << s.ignored_completions << " stale completions ignored, " << s.orphaned
              << " orphaned by a crash\n";
  if (!run.faults_used.empty()) {
    console.out << "  faults:";
    for (const auto& [kind, n] : run.faults_used) console.out << " " << kind << " " << n;
    console.out << "\n";
  }
  for (const auto& v : run.violations) console.out << "  violation: " << v << "\n";
  if (run.violation_count > run.violations.size()) {
    console.out << "  ... and " << run.violation_count - run.violations.size() << " more\n";
  }
  for (const TaskId id : run.unnotified) console.out << "  violation: " << to_string(id) << " was accepted and never ended\n";
  for (const auto& f : run.fault_findings) console.out << "  violation: fault site: " << f << "\n";
  const std::size_t failures = run.violation_count + run.unnotified.size() + run.fault_findings.size();

  auto output = options->value("--output");
  if (!output && failures > 0) output = "tasklane-sim-" + std::to_string(workload.seed) + ".trace";
  if (output) {
    if (!drivers::write_trace(*output, run.config, run.trace, run.restarts)) {
      console.err << "tasklane sim: cannot write " << *output << "\n";
      return exit_bad_usage;
    }
    // Prove the file reproduces the run: it replays, and breaks exactly as many invariants.
    auto read = drivers::read_trace(*output);
    if (!read) {
      console.err << "tasklane sim: the trace just written does not read back: " << read.error() << "\n";
      return exit_check_failed;
    }
    const auto replayed = drivers::replay_trace(read.value());
    const auto judged = check_trace_invariants(read.value());
    const bool reproduces = replayed.ok() && judged.violation_count == run.violation_count;
    console.out << "  trace: " << *output << (reproduces ? " (replays exactly, " : " (DOES NOT reproduce the run, ")
                << judged.violation_count << " violations on replay)\n";
    if (!reproduces) return exit_check_failed;
  }
  console.out << "sim: " << failures << (failures == 1 ? " violation\n" : " violations\n");
  return failures == 0 ? exit_ok : exit_check_failed;
}

}  // namespace tasklane::cli
