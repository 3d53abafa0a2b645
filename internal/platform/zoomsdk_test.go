package platform

import (
	"slices"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

func TestZoomCodes(t *testing.T) {
	for code, want := range map[string]onbehalf.JoinFailure{
		"501": onbehalf.JoinUserNotInMeeting, "505": onbehalf.JoinTokenInvalid, "506": onbehalf.JoinTokenWrongMeeting,
		"1143": onbehalf.JoinTokenWrongMeeting, "63": onbehalf.JoinAppNotApproved, " 7 ": onbehalf.JoinMeetingNotStarted,
		"65535": onbehalf.JoinOther,
	} {
		if got, ok := ZoomFailure(code); !ok || got != want {
			t.Errorf("ZoomFailure(%q) = %q, %v; want %q", code, got, ok, want)
		}
	}
	for _, code := range []string{"", "abc", "12345"} {
		if got, ok := ZoomFailure(code); ok {
			t.Errorf("ZoomFailure(%q) = %q, want not known", code, got)
		}
	}
	if f, ok := ZoomEndFailure("8"); !ok || f != onbehalf.JoinUserLeft {
		t.Errorf("end reason 8: %q %v", f, ok)
	}
	if f, ok := ZoomEndFailure("2"); !ok || f != "" {
		t.Errorf("end reason 2 (host ended): %q %v, want no failure", f, ok)
	}
	for _, f := range zoomFailCodes {
		if !slices.Contains(onbehalf.JoinFailures, f) {
			t.Errorf("%q is not in the vocabulary", f)
		}
	}
}

func TestZoomFailureInWords(t *testing.T) {
	for text, want := range map[string]onbehalf.JoinFailure{
		"The authorized user left the meeting":                     onbehalf.JoinUserLeft,
		"Join failed with code 505":                                onbehalf.JoinTokenInvalid,
		"MEETING_FAIL 506":                                         onbehalf.JoinTokenWrongMeeting,
		"Authorized user not in meeting":                           onbehalf.JoinUserNotInMeeting,
		"Internal error 500 at the platform":                       "", // not a Zoom code
		"Bot left the meeting":                                     "",
		"Failed: Not admitted to meeting":                          onbehalf.JoinWaitingRoom,
		"meeting has not started: waiting for host":                onbehalf.JoinMeetingNotStarted,
		"To join a meeting hosted by an external Zoom account ...": onbehalf.JoinAppNotApproved,
	} {
		if got := ZoomFailureInWords(text); got != want {
			t.Errorf("%q: %q, want %q", text, got, want)
		}
	}
}
