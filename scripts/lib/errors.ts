// Error types whose messages are meant for people: callers print `message` without a stack.

/** A step of the stack failed; the message says which and carries the relevant log tail. */
export class StackError extends Error {
  override name = "StackError";
}

/** A required program is missing; the message says what to install. */
export class MissingDependencyError extends StackError {
  override name = "MissingDependencyError";
}

/** An explicitly requested port is already taken by another process. */
export class PortInUseError extends StackError {
  override name = "PortInUseError";
  constructor(readonly service: string, readonly port: number) {
    super(`Port ${port} (${service}) is already in use.`);
  }
}
