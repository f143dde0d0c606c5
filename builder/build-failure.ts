/**
 * A build that failed for a reason of its own (its command, its commit, its artifact), as
 * opposed to a fault of the worker. The message becomes the build's failure reason verbatim,
 * so it says what happened and what to look at.
 */
export class BuildFailure extends Error {
  override readonly name = 'BuildFailure';
}
