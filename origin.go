package objstore

import "time"

// OriginState is what a node last found when it probed its origin.
type OriginState string

// The origin states. Every state but OriginOK names what the operator must
// fix; OriginHealth.Error says what and how.
const (
	// OriginOK: the origin answers and the configured bucket is usable.
	OriginOK OriginState = "ok"
	// OriginAccessDenied: the origin refuses the credentials (unknown access
	// key, wrong secret, expired token) or denies access to the bucket.
	OriginAccessDenied OriginState = "access_denied"
	// OriginNoSuchBucket: the configured bucket does not exist.
	OriginNoSuchBucket OriginState = "no_such_bucket"
	// OriginNoCredentials: no credentials were found to sign with.
	OriginNoCredentials OriginState = "no_credentials"
	// OriginWrongRegion: the bucket lives in another region than the one
	// the node signs for.
	OriginWrongRegion OriginState = "wrong_region"
	// OriginUnreachable: no answer (connection refused, DNS, timeout).
	OriginUnreachable OriginState = "unreachable"
	// OriginError: the origin answers with another error (a 5xx, an
	// unexpected code).
	OriginError OriginState = "error"
)

// OriginHealth is the origin's state as the node's last probe found it.
type OriginHealth struct {
	State OriginState `json:"state"`
	// Error says what is wrong and what to do; empty when State is OriginOK.
	Error string `json:"error,omitempty"`
	// Since is when the origin entered State.
	Since time.Time `json:"since"`
	// Checked is when the origin was last probed.
	Checked time.Time `json:"checked"`
}
