/** An error in what the user asked for (bad argument, unreadable input file): exit code 2, message on stderr. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
