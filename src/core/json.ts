// The contract's JSON shape of a task: camelCase, ISO 8601 UTC instants,
// durations in milliseconds.
import { durationMs, type Liveness, type Message, type Task, type TaskEvent, type WaitingFor } from './task.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function taskJson(task: Task, liveness: Liveness | null, now: number, story?: { messages: Message[]; events: TaskEvent[] }, waitingFor: WaitingFor | null = null) {
  return {
    id: task.id,
    name: task.name,
    info: task.info,
    state: task.state,
    liveness,
    waitingFor,
    command: task.command,
    cwd: task.cwd,
    host: task.host,
    pid: task.pid,
    launcherPid: task.launcher?.pid ?? null,
    reservedAt: iso(task.reservedAt),
    startedAt: iso(task.startedAt),
    endedAt: iso(task.endedAt),
    lastHeartbeatAt: iso(task.lastHeartbeatAt),
    exitCode: task.exitCode,
    signal: task.signal,
    timeoutMs: task.timeoutMs,
    durationMs: durationMs(task, now),
    progress: task.progress,
    feedback: task.feedback,
    attempt: task.attempt,
    maxAttempts: task.maxAttempts,
    result: task.result,
    logPath: task.logPath,
    feedbackPath: task.feedbackPath,
    ...(story && {
      messages: story.messages.map((m) => ({ at: iso(m.at), type: m.type, text: m.text, stacktrace: m.stacktrace })),
      events: story.events.map((e) => ({ at: iso(e.at), from: e.from, to: e.to, reason: e.reason })),
    }),
  };
}
