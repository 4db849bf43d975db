// Call metadata keys of flockguard.v1 (documented in proto/flockguard.proto).

/** Sent by clients: who they say they are. Recorded as claimed, never trusted for access. */
export const CLAIMED_UID_KEY = 'flockguard-claimed-uid';
export const CLAIMED_PID_KEY = 'flockguard-claimed-pid';
export const CLAIMED_USER_KEY = 'flockguard-claimed-user';

/** Sent by the agent with a failure status: the stable error code, and policy issues as JSON. */
export const ERROR_CODE_KEY = 'flockguard-error-code';
export const ISSUES_KEY = 'flockguard-issues-bin';
