package s3api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sphere.software/objstore"
)

// TestLostIsInternalError: a body lost to rot is S3's InternalError (500)
// with a message that says what happened, not NoSuchKey.
func TestLostIsInternalError(t *testing.T) {
	err := fmt.Errorf("node: get b/k: %w", objstore.ErrLost)
	code, status := codeOf(err)
	if code != "InternalError" || status != http.StatusInternalServerError {
		t.Fatalf("codeOf = %s %d, want InternalError 500", code, status)
	}
	if msg := messageOf(err); !strings.Contains(msg, "lost") {
		t.Fatalf("message %q does not say the body is lost", msg)
	}
}
