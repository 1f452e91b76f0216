// Errors of distributed runs. A peer failure is not the user's to fix (exit 1); a bad launch
// setting is (exit 2).
import { CatkitError } from '../errors.js';

/** A collective failed: a peer died, hung past the timeout, or the group could not form. */
export class PeerFailureError extends CatkitError {
  override name = 'PeerFailureError';
  constructor(message: string, cause?: unknown) {
    super('distributed_peer_failure', message, { userFacing: false, cause });
  }
}

/** Launch settings or torchrun environment variables that do not describe a valid group. */
export class LaunchConfigError extends CatkitError {
  override name = 'LaunchConfigError';
  constructor(message: string) {
    super('distributed_config', message, { userFacing: true });
  }
}
