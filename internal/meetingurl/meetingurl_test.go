package meetingurl

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxMessageLen bounds the length of an error message: a message may quote a
// clipped piece of the input, never the input itself.
const maxMessageLen = 400

var parseTests = []struct {
	name string
	in   string
	want string // the meeting ID; "" when Parse must fail
	msg  string // when Parse must fail, a piece of the message
}{
	// Browser links.
	{name: "https j pwd", in: "https://zoom.us/j/85012345678?pwd=abc", want: "85012345678"},
	{name: "http", in: "http://zoom.us/j/85012345678", want: "85012345678"},
	{name: "no scheme", in: "zoom.us/j/85012345678", want: "85012345678"},
	{name: "no scheme with query", in: "us02web.zoom.us/j/85012345678?pwd=a:b", want: "85012345678"},
	{name: "scheme-relative", in: "//zoom.us/j/85012345678", want: "85012345678"},
	{name: "trailing slash", in: "https://zoom.us/j/85012345678/", want: "85012345678"},
	{name: "fragment", in: "https://zoom.us/j/85012345678#success", want: "85012345678"},
	{name: "query and fragment", in: "https://zoom.us/j/85012345678?pwd=abc#success", want: "85012345678"},
	{name: "9 digits", in: "https://zoom.us/j/850123456", want: "850123456"},
	{name: "10 digits", in: "https://zoom.us/j/8501234567", want: "8501234567"},
	{name: "pwd and uname", in: "https://zoom.us/j/85012345678?pwd=xyz&uname=Ann%20Lee", want: "85012345678"},
	{name: "start", in: "https://zoom.us/s/85012345678?zak=abc", want: "85012345678"},
	{name: "webinar", in: "https://zoom.us/w/85012345678?tk=abc", want: "85012345678"},
	{name: "web client join", in: "https://zoom.us/wc/join/85012345678", want: "85012345678"},
	{name: "web client join pwd", in: "https://zoom.us/wc/join/85012345678?pwd=abc", want: "85012345678"},
	{name: "web client id join", in: "https://zoom.us/wc/85012345678/join", want: "85012345678"},
	{name: "web client id start", in: "https://zoom.us/wc/85012345678/start", want: "85012345678"},
	{name: "web client id join query", in: "https://app.zoom.us/wc/85012345678/join?fromPWA=1&pwd=abc", want: "85012345678"},
	{name: "path keyword case", in: "https://zoom.us/J/85012345678", want: "85012345678"},

	// Hosts.
	{name: "vanity", in: "https://acme.zoom.us/j/85012345678", want: "85012345678"},
	{name: "us02web", in: "https://us02web.zoom.us/j/85012345678?pwd=abc", want: "85012345678"},
	{name: "us06web", in: "https://us06web.zoom.us/j/85012345678?pwd=abc", want: "85012345678"},
	{name: "zoom.com", in: "https://zoom.com/j/85012345678", want: "85012345678"},
	{name: "sub.zoom.com", in: "https://app.zoom.com/j/85012345678", want: "85012345678"},
	{name: "zoomgov.com", in: "https://zoomgov.com/j/1612345678", want: "1612345678"},
	{name: "sub.zoomgov.com", in: "https://agency.zoomgov.com/j/1612345678", want: "1612345678"},
	{name: "host case", in: "HTTPS://US02WEB.Zoom.US/j/85012345678", want: "85012345678"},
	{name: "fully qualified host", in: "https://zoom.us./j/85012345678", want: "85012345678"},
	{name: "port 443", in: "https://zoom.us:443/j/85012345678", want: "85012345678"},
	{name: "port 80", in: "http://zoom.us:80/j/85012345678", want: "85012345678"},
	{name: "port no scheme", in: "zoom.us:443/j/85012345678", want: "85012345678"},

	// App links.
	{name: "zoommtg join", in: "zoommtg://zoom.us/join?confno=85012345678&pwd=abc", want: "85012345678"},
	{name: "zoommtg join action", in: "zoommtg://us02web.zoom.us/join?action=join&confno=85012345678&pwd=abc", want: "85012345678"},
	{name: "zoommtg start", in: "zoommtg://zoom.us/start?confno=85012345678&zak=abc", want: "85012345678"},
	{name: "zoomus join", in: "zoomus://zoom.us/join?confno=85012345678&pwd=abc", want: "85012345678"},
	{name: "zoomus start", in: "ZoomUS://zoom.us/start?confno=85012345678", want: "85012345678"},

	// Bare IDs.
	{name: "bare", in: "85012345678", want: "85012345678"},
	{name: "bare spaces", in: "850 1234 5678", want: "85012345678"},
	{name: "bare dashes", in: "850-1234-5678", want: "85012345678"},
	{name: "bare 9 digits", in: "850 123 456", want: "850123456"},
	{name: "surrounding white space", in: " \t https://zoom.us/j/85012345678 \n", want: "85012345678"},
	{name: "bare surrounding white space", in: "\n 850 1234 5678\r\n", want: "85012345678"},

	// Rejections: input.
	{name: "empty", in: "", msg: "Meeting URL is empty."},
	{name: "blank", in: " \t\n", msg: "Meeting URL is empty."},
	{name: "too long", in: "https://zoom.us/j/85012345678?pwd=" + strings.Repeat("a", MaxLen), msg: "too long"},
	{name: "not a URL", in: "https://zoom.us/j/850\x7f12345678", msg: "not a valid URL"},
	{name: "no slashes", in: "https:zoom.us/j/85012345678", msg: `"https:" must be followed by "//"`},

	// Rejections: schemes.
	{name: "javascript", in: "javascript:alert(1)", msg: `"javascript:" are not supported`},
	{name: "javascript slashes", in: "javascript://zoom.us/j/85012345678%0aalert(1)", msg: "not supported"},
	{name: "ftp", in: "ftp://zoom.us/j/85012345678", msg: `"ftp:" are not supported`},
	{name: "data", in: "data:text/html,<b>85012345678</b>", msg: "not supported"},

	// Rejections: hosts.
	{name: "evil host", in: "https://evil.com/j/85012345678", msg: "the host must be zoom.us, zoom.com or zoomgov.com (or a subdomain), not \"evil.com\""},
	{name: "suffix look-alike", in: "https://zoom.us.evil.com/j/85012345678", msg: "the host must be"},
	{name: "prefix look-alike", in: "https://evilzoom.us/j/85012345678", msg: "the host must be"},
	{name: "look-alike no scheme", in: "evilzoom.us/j/85012345678", msg: "the host must be"},
	{name: "userinfo", in: "https://zoom.us@evil.com/j/85012345678", msg: "user name"},
	{name: "userinfo zoom host", in: "https://evil.com@zoom.us/j/85012345678", msg: "user name"},
	{name: "no host", in: "https:///j/85012345678", msg: "no host"},
	{name: "empty label", in: "https://evil..zoom.us/j/85012345678", msg: "the host must be"},
	{name: "ip", in: "https://127.0.0.1/j/85012345678", msg: "the host must be"},
	{name: "other port", in: "https://zoom.us:8443/j/85012345678", msg: "port"},
	{name: "zoommtg evil host", in: "zoommtg://evil.com/join?confno=85012345678", msg: "the host must be"},
	{name: "word", in: "hello", msg: "neither a Zoom meeting URL nor a meeting ID"},
	{name: "local host", in: "https://localhost/j/85012345678", msg: "the host must be"},
	{name: "digits and letters", in: "8501234567a", msg: "neither"},

	// Rejections: paths and IDs.
	{name: "personal link", in: "https://zoom.us/my/jane.doe", msg: "That is a Zoom personal link (/my/jane.doe): it carries no meeting ID."},
	{name: "personal link vanity", in: "acme.zoom.us/my/jane", msg: "personal link"},
	{name: "root", in: "https://zoom.us/", msg: "has no meeting ID"},
	{name: "host only", in: "zoom.us", msg: "has no meeting ID"},
	{name: "j no ID", in: "https://zoom.us/j/", msg: "no meeting ID after /j/"},
	{name: "wc join no ID", in: "https://zoom.us/wc/join/", msg: "no meeting ID after /wc/join/"},
	{name: "non-digit ID", in: "https://zoom.us/j/abc", msg: `Meeting ID must contain only digits (got "abc").`},
	{name: "escaped digits", in: "https://zoom.us/j/%38%35%30%31%32%33%34%35%36%37%38", msg: "only digits"},
	{name: "spaced ID in path", in: "https://zoom.us/j/850%201234%205678", msg: "only digits"},
	{name: "short ID", in: "https://zoom.us/j/8501234", msg: "Meeting ID must have 9 to 11 digits (got 7)."},
	{name: "long ID", in: "https://zoom.us/j/850123456789", msg: "Meeting ID must have 9 to 11 digits (got 12)."},
	{name: "short bare ID", in: "850 1234", msg: "Meeting ID must have 9 to 11 digits (got 7)."},
	{name: "long bare ID", in: "850-1234-5678-9", msg: "(got 12)"},
	{name: "dashes only", in: "- -", msg: "(got 0)"},
	{name: "unknown path", in: "https://zoom.us/webinar/register/WN_abc", msg: "the path should look like /j/85012345678"},
	{name: "extra segment", in: "https://zoom.us/j/85012345678/extra", msg: "the path should look like"},
	{name: "wc without join", in: "https://zoom.us/wc/85012345678", msg: "the path should look like"},
	{name: "zoommtg no confno", in: "zoommtg://zoom.us/join?action=join&pwd=abc", msg: "no meeting ID (confno=…)"},
	{name: "zoommtg empty confno", in: "zoommtg://zoom.us/join?confno=&pwd=abc", msg: "confno"},
	{name: "zoommtg bad path", in: "zoommtg://zoom.us/j/85012345678", msg: "zoommtg://zoom.us/join?confno="},
	{name: "zoommtg bad confno", in: "zoommtg://zoom.us/join?confno=12ab", msg: "only digits"},
	{name: "zoommtg escaped confno", in: "zoommtg://zoom.us/join?confno=%3850123456", msg: "only digits"},

	// Rejections: long input is never echoed in full.
	{name: "long host", in: "https://" + strings.Repeat("a", 1500) + ".com/j/85012345678", msg: "the host must be"},
	{name: "long personal link", in: "https://zoom.us/my/" + strings.Repeat("x", 1000), msg: "personal link"},
	{name: "long path", in: "https://zoom.us/" + strings.Repeat("p/", 900), msg: "the path should look like"},
	{name: "long non-digit ID", in: "https://zoom.us/j/" + strings.Repeat("9x", 900), msg: "only digits"},
	{name: "long digit ID", in: "https://zoom.us/j/" + strings.Repeat("9", 2000), msg: "(got 2000)"},
	{name: "long bare ID", in: strings.Repeat("1 ", 1000), msg: "(got 1000)"},
	{name: "long scheme", in: strings.Repeat("x", 1000) + "://zoom.us/j/85012345678", msg: "not supported"},
	{name: "invalid UTF-8", in: "zoom.us/my/0\xa9", msg: "(/my/0\uFFFD)"},
	{name: "long multibyte", in: "https://zoom.us/my/" + strings.Repeat("é", 500), msg: "personal link"},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("Parse(%q) error: %v", tt.in, err)
				}
				if got != tt.want {
					t.Fatalf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tt.in, got)
			}
			if got != "" {
				t.Errorf("Parse(%q) returned %q along with an error", tt.in, got)
			}
			var e *onbehalf.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T %v, want *onbehalf.Error", tt.in, err, err)
			}
			if e.Code != onbehalf.EINVALID {
				t.Errorf("Parse(%q) code %q, want %q", tt.in, e.Code, onbehalf.EINVALID)
			}
			if e.Message == "" {
				t.Fatalf("Parse(%q): empty message", tt.in)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("Parse(%q) message %q, want it to contain %q", tt.in, e.Message, tt.msg)
			}
			if len(tt.in) > 100 && strings.Contains(e.Message, strings.TrimSpace(tt.in)) {
				t.Errorf("Parse(long input) message echoes the input: %q", e.Message)
			}
			if len(e.Message) > maxMessageLen {
				t.Errorf("Parse(%q) message is %d bytes long: %q", tt.in, len(e.Message), e.Message)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := Parse(in)
		if err != nil {
			var e *onbehalf.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T %v, want *onbehalf.Error", in, err, err)
			}
			if e.Code != onbehalf.EINVALID {
				t.Fatalf("Parse(%q) code %q, want %q", in, e.Code, onbehalf.EINVALID)
			}
			if e.Message == "" || len(e.Message) > maxMessageLen || !utf8.ValidString(e.Message) {
				t.Fatalf("Parse(%q) message %q: want 1 to %d bytes of UTF-8", in, e.Message, maxMessageLen)
			}
			if id != "" {
				t.Fatalf("Parse(%q) returned %q along with an error", in, id)
			}
			return
		}
		if len(id) < MinDigits || len(id) > MaxDigits {
			t.Fatalf("Parse(%q) = %q: want %d to %d digits", in, id, MinDigits, MaxDigits)
		}
		for i := 0; i < len(id); i++ {
			if id[i] < '0' || id[i] > '9' {
				t.Fatalf("Parse(%q) = %q: not all ASCII digits", in, id)
			}
		}
		if squeezed := strings.NewReplacer(" ", "", "-", "").Replace(in); !strings.Contains(squeezed, id) {
			t.Fatalf("Parse(%q) = %q: not in the input", in, id)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	const in = "https://us02web.zoom.us/j/85012345678?pwd=abc"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
