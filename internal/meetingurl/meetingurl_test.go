package meetingurl

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxMessageLen bounds the length of an error message: a message may quote a
// clipped piece of the input, never the input itself.
const maxMessageLen = 400

// parseTest is one case of Parse: an input and either the canonical URL
// (the ID is its last path segment) and passcode, or a piece of the message.
type parseTest struct {
	name string
	in   string
	want string // the canonical URL; "" when Parse must fail
	pwd  string // the passcode when Parse succeeds
	msg  string // when Parse must fail, a piece of the message
}

// allTests are the cases of every table, for TestParse and the fuzz seeds.
func allTests() []parseTest {
	var all []parseTest
	for _, t := range [][]parseTest{linkTests, textTests, redirectTests} {
		all = append(all, t...)
	}
	return all
}

var linkTests = []parseTest{
	// Browser links.
	{name: "https j pwd", in: "https://zoom.us/j/85012345678?pwd=abc", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "http", in: "http://zoom.us/j/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "no scheme", in: "zoom.us/j/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "no scheme with query", in: "us02web.zoom.us/j/85012345678?pwd=a:b", want: "https://us02web.zoom.us/j/85012345678?pwd=a%3Ab", pwd: "a:b"},
	{name: "scheme-relative", in: "//zoom.us/j/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "trailing slash", in: "https://zoom.us/j/85012345678/", want: "https://zoom.us/j/85012345678"},
	{name: "fragment", in: "https://zoom.us/j/85012345678#success", want: "https://zoom.us/j/85012345678"},
	{name: "query and fragment", in: "https://zoom.us/j/85012345678?pwd=abc#success", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "9 digits", in: "https://zoom.us/j/850123456", want: "https://zoom.us/j/850123456"},
	{name: "10 digits", in: "https://zoom.us/j/8501234567", want: "https://zoom.us/j/8501234567"},
	{name: "12 digits", in: "https://zoom.us/j/850123456789", want: "https://zoom.us/j/850123456789"},
	{name: "pwd and uname", in: "https://zoom.us/j/85012345678?pwd=xyz&uname=Ann%20Lee", want: "https://zoom.us/j/85012345678?pwd=xyz", pwd: "xyz"},
	{name: "uname then pwd", in: "https://zoom.us/j/85012345678?uname=Ann&pwd=xyz", want: "https://zoom.us/j/85012345678?pwd=xyz", pwd: "xyz"},
	{name: "empty pwd", in: "https://zoom.us/j/85012345678?pwd=", want: "https://zoom.us/j/85012345678"},
	{name: "start drops zak", in: "https://zoom.us/s/85012345678?zak=abc", want: "https://zoom.us/j/85012345678"},
	{name: "webinar drops tk", in: "https://zoom.us/w/85012345678?tk=abc", want: "https://zoom.us/j/85012345678"},
	{name: "web client join", in: "https://zoom.us/wc/join/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "web client join pwd", in: "https://zoom.us/wc/join/85012345678?pwd=abc", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "web client id join", in: "https://zoom.us/wc/85012345678/join", want: "https://zoom.us/j/85012345678"},
	{name: "web client id start", in: "https://zoom.us/wc/85012345678/start", want: "https://zoom.us/j/85012345678"},
	{name: "web client id join query", in: "https://app.zoom.us/wc/85012345678/join?fromPWA=1&pwd=abc", want: "https://app.zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "web client id", in: "https://zoom.us/wc/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "web client id pwd", in: "https://us06web.zoom.us/wc/85012345678/?pwd=abc.1", want: "https://us06web.zoom.us/j/85012345678?pwd=abc.1", pwd: "abc.1"},
	{name: "path keyword case", in: "https://zoom.us/J/85012345678", want: "https://zoom.us/j/85012345678"},
	// Shapes other projects test (meeting bots, calendar menu bars).
	{name: "pwd with .1", in: "https://zoom.us/j/98519541483?pwd=mvnCGg66LoLUP3v4HrsOdjWIb2KQKH.1", want: "https://zoom.us/j/98519541483?pwd=mvnCGg66LoLUP3v4HrsOdjWIb2KQKH.1", pwd: "mvnCGg66LoLUP3v4HrsOdjWIb2KQKH.1"},
	{name: "us04web pwd", in: "https://us04web.zoom.us/j/78272441146?pwd=buD2J6X5SlOx6s1JovK0bA3jkpc0yT.1", want: "https://us04web.zoom.us/j/78272441146?pwd=buD2J6X5SlOx6s1JovK0bA3jkpc0yT.1", pwd: "buD2J6X5SlOx6s1JovK0bA3jkpc0yT.1"},
	{name: "old base64 pwd", in: "https://us02web.zoom.us/j/85001833920?pwd=cWY6TnhHRkdKZXcwSVk5aGE1VXpqUT09", want: "https://us02web.zoom.us/j/85001833920?pwd=cWY6TnhHRkdKZXcwSVk5aGE1VXpqUT09", pwd: "cWY6TnhHRkdKZXcwSVk5aGE1VXpqUT09"},
	{name: "vanity with dash", in: "https://acrons-team.zoom.us/j/98832106351?pwd=LED1nQDsZvuIED3ccBTlw04Gzi0MOw.1", want: "https://acrons-team.zoom.us/j/98832106351?pwd=LED1nQDsZvuIED3ccBTlw04Gzi0MOw.1", pwd: "LED1nQDsZvuIED3ccBTlw04Gzi0MOw.1"},
	{name: "us05web 10 digits", in: "https://us05web.zoom.us/j/6298382741", want: "https://us05web.zoom.us/j/6298382741"},
	{name: "zoommtg full", in: "zoommtg://zoom.us/join?confno=123456789&pwd=xxxx&zc=0&browser=chrome&uname=Betty", want: "https://zoom.us/j/123456789?pwd=xxxx", pwd: "xxxx"},

	// Passcodes are decoded, checked and escaped again.
	{name: "pwd escaped", in: "https://zoom.us/j/85012345678?pwd=a%2Bb%26c%20d", want: "https://zoom.us/j/85012345678?pwd=a%2Bb%26c+d", pwd: "a+b&c d"},
	{name: "pwd plus is space", in: "https://zoom.us/j/85012345678?pwd=a+b", want: "https://zoom.us/j/85012345678?pwd=a+b", pwd: "a b"},
	{name: "pwd final dot", in: "https://zoom.us/j/85012345678?pwd=abc%2E", want: "https://zoom.us/j/85012345678?pwd=abc%2E", pwd: "abc."},
	{name: "pwd unicode", in: "https://zoom.us/j/85012345678?pwd=%C3%A9t%C3%A9", want: "https://zoom.us/j/85012345678?pwd=%C3%A9t%C3%A9", pwd: "été"},
	{name: "pwd key case", in: "https://zoom.us/j/85012345678?PWD=abc", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},

	// Hosts.
	{name: "vanity", in: "https://acme.zoom.us/j/85012345678", want: "https://acme.zoom.us/j/85012345678"},
	{name: "us02web", in: "https://us02web.zoom.us/j/85012345678?pwd=abc", want: "https://us02web.zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "us06web", in: "https://us06web.zoom.us/j/85012345678?pwd=abc", want: "https://us06web.zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "zoom.com", in: "https://zoom.com/j/85012345678", want: "https://zoom.com/j/85012345678"},
	{name: "sub.zoom.com", in: "https://app.zoom.com/j/85012345678", want: "https://app.zoom.com/j/85012345678"},
	{name: "zoomgov.com", in: "https://zoomgov.com/j/1612345678", want: "https://zoomgov.com/j/1612345678"},
	{name: "sub.zoomgov.com", in: "https://agency.zoomgov.com/j/1612345678?pwd=g", want: "https://agency.zoomgov.com/j/1612345678?pwd=g", pwd: "g"},
	{name: "host case", in: "HTTPS://US02WEB.Zoom.US/j/85012345678", want: "https://us02web.zoom.us/j/85012345678"},
	{name: "fully qualified host", in: "https://zoom.us./j/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "port 443", in: "https://zoom.us:443/j/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "port 80", in: "http://zoom.us:80/j/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "port no scheme", in: "zoom.us:443/j/85012345678", want: "https://zoom.us/j/85012345678"},

	// App links.
	{name: "zoommtg join", in: "zoommtg://zoom.us/join?confno=85012345678&pwd=abc", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "zoommtg join action", in: "zoommtg://us02web.zoom.us/join?action=join&confno=85012345678&pwd=abc", want: "https://us02web.zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "zoommtg start", in: "zoommtg://zoom.us/start?confno=85012345678&zak=abc", want: "https://zoom.us/j/85012345678"},
	{name: "zoomus join", in: "zoomus://zoom.us/join?confno=85012345678&pwd=abc", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "zoomus start", in: "ZoomUS://zoom.us/start?confno=85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "zoommtg gov", in: "zoommtg://zoomgov.com/join?confno=1612345678", want: "https://zoomgov.com/j/1612345678"},

	// Bare IDs.
	{name: "bare", in: "85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "bare spaces", in: "850 1234 5678", want: "https://zoom.us/j/85012345678"},
	{name: "bare dashes", in: "850-1234-5678", want: "https://zoom.us/j/85012345678"},
	{name: "bare 9 digits", in: "850 123 456", want: "https://zoom.us/j/850123456"},
	{name: "bare 12 digits", in: "8501 2345 6789", want: "https://zoom.us/j/850123456789"},
	{name: "bare full stop", in: "85012345678.", want: "https://zoom.us/j/85012345678"},
	{name: "surrounding white space", in: " \t https://zoom.us/j/85012345678 \n", want: "https://zoom.us/j/85012345678"},
	{name: "bare surrounding white space", in: "\n 850 1234 5678\r\n", want: "https://zoom.us/j/85012345678"},

	// Punctuation around a pasted link.
	{name: "angle brackets", in: "<https://zoom.us/j/85012345678>", want: "https://zoom.us/j/85012345678"},
	{name: "parentheses", in: "(https://zoom.us/j/85012345678?pwd=abc)", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "full stop", in: "https://zoom.us/j/85012345678.", want: "https://zoom.us/j/85012345678"},
	{name: "paren comma", in: "https://zoom.us/j/85012345678),", want: "https://zoom.us/j/85012345678"},
	{name: "pwd full stop", in: "https://zoom.us/j/85012345678?pwd=abc.1.", want: "https://zoom.us/j/85012345678?pwd=abc.1", pwd: "abc.1"},
	{name: "quotes", in: `"https://zoom.us/j/85012345678"`, want: "https://zoom.us/j/85012345678"},
	{name: "markdown bold", in: "**https://zoom.us/j/85012345678**", want: "https://zoom.us/j/85012345678"},

	// Rejections: input.
	{name: "empty", in: "", msg: "Meeting URL is empty."},
	{name: "blank", in: " \t\n", msg: "Meeting URL is empty."},
	{name: "too long", in: "https://zoom.us/j/85012345678?pwd=" + strings.Repeat("a", MaxLen), msg: "too long"},
	{name: "not a URL", in: "https://zoom.us/j/850\x7f12345678", msg: "not a valid URL"},
	{name: "no slashes", in: "https:zoom.us/j/85012345678", msg: `"https:" must be followed by "//"`},
	{name: "brackets only", in: "<>", msg: "neither a Zoom meeting URL nor a meeting ID"},

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
	{name: "dash look-alike", in: "https://zoom-us.com/j/85012345678", msg: "the host must be"},
	{name: "userinfo", in: "https://zoom.us@evil.com/j/85012345678", msg: "user name"},
	{name: "userinfo zoom host", in: "https://evil.com@zoom.us/j/85012345678", msg: "user name"},
	{name: "userinfo escaped at", in: "https://zoom.us%40evil.com/j/85012345678", msg: "not a valid URL"},
	{name: "backslash host", in: "https://evil.com\\@zoom.us/j/85012345678", msg: "not a valid URL"},
	{name: "no host", in: "https:///j/85012345678", msg: "no host"},
	{name: "dash label", in: "-.zoom.us/j/850123456", msg: "the host must be"},
	{name: "label ends with dash", in: "https://acme-.zoom.us/j/850123456", msg: "the host must be"},
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
	{name: "personal link pwd", in: "https://acme.zoom.us/my/jane?pwd=abc", msg: "personal link"},
	{name: "root", in: "https://zoom.us/", msg: "has no meeting ID"},
	{name: "host only", in: "zoom.us", msg: "has no meeting ID"},
	{name: "j no ID", in: "https://zoom.us/j/", msg: "no meeting ID after /j/"},
	{name: "wc join no ID", in: "https://zoom.us/wc/join/", msg: "no meeting ID after /wc/join/"},
	{name: "wc no ID", in: "https://zoom.us/wc/", msg: "no meeting ID after /wc/"},
	{name: "wc word", in: "https://zoom.us/wc/leave", msg: "only digits"},
	{name: "non-digit ID", in: "https://zoom.us/j/abc", msg: `Meeting ID must contain only digits (got "abc").`},
	{name: "escaped digits", in: "https://zoom.us/j/%38%35%30%31%32%33%34%35%36%37%38", msg: "only digits"},
	{name: "spaced ID in path", in: "https://zoom.us/j/850%201234%205678", msg: "only digits"},
	{name: "short ID", in: "https://zoom.us/j/8501234", msg: "Meeting ID must have 9 to 12 digits (got 7)."},
	{name: "8 digits", in: "https://us02web.zoom.us/j/87654321?pwd=xyz123", msg: "(got 8)"},
	{name: "long ID", in: "https://zoom.us/j/8501234567890", msg: "Meeting ID must have 9 to 12 digits (got 13)."},
	{name: "short bare ID", in: "850 1234", msg: "Meeting ID must have 9 to 12 digits (got 7)."},
	{name: "13-digit bare ID", in: "850-1234-5678-90", msg: "(got 13)"},
	{name: "dashes only", in: "- -", msg: "(got 0)"},
	{name: "unknown path", in: "https://zoom.us/webinar/register/WN_abc", msg: "the path should look like /j/85012345678"},
	{name: "extra segment", in: "https://zoom.us/j/85012345678/extra", msg: "the path should look like"},
	{name: "wc extra segment", in: "https://zoom.us/wc/85012345678/join/x", msg: "the path should look like"},
	{name: "zoommtg no confno", in: "zoommtg://zoom.us/join?action=join&pwd=abc", msg: "no meeting ID (confno=…)"},
	{name: "zoommtg empty confno", in: "zoommtg://zoom.us/join?confno=&pwd=abc", msg: "confno"},
	{name: "zoommtg bad path", in: "zoommtg://zoom.us/j/85012345678", msg: "zoommtg://zoom.us/join?confno="},
	{name: "zoommtg bad confno", in: "zoommtg://zoom.us/join?confno=12ab", msg: "only digits"},
	{name: "zoommtg escaped confno", in: "zoommtg://zoom.us/join?confno=%3850123456", msg: "only digits"},

	// Rejections: passcodes.
	{name: "pwd control", in: "https://zoom.us/j/85012345678?pwd=ab%00c", msg: "control"},
	{name: "pwd newline", in: "https://zoom.us/j/85012345678?pwd=ab%0D%0ASet-Cookie:x", msg: "control"},
	{name: "pwd bidi override", in: "https://zoom.us/j/85012345678?pwd=ab%E2%80%AEc", msg: "unprintable"},
	{name: "pwd not UTF-8", in: "https://zoom.us/j/85012345678?pwd=%ff", msg: "unprintable"},
	{name: "pwd garbled", in: "https://zoom.us/j/85012345678?pwd=%zz", msg: "garbled"},
	{name: "pwd too long", in: "https://zoom.us/j/85012345678?pwd=" + strings.Repeat("p", maxPasswordLen+1), msg: "too long"},

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
	for _, tt := range allTests() {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("Parse(%q) error: %v", tt.in, err)
				}
				_, wantID, _ := strings.Cut(strings.SplitN(tt.want, "?", 2)[0], "/j/")
				want := onbehalf.Meeting{ID: wantID, URL: tt.want, Password: tt.pwd}
				if m != want {
					t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, m, want)
				}
				if again, err := Parse(m.URL); err != nil || again != m {
					t.Fatalf("Parse(%q) = %+v, %v; want %+v", m.URL, again, err, m)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.in, m)
			}
			if m != (onbehalf.Meeting{}) {
				t.Errorf("Parse(%q) returned %+v along with an error", tt.in, m)
			}
			e := checkError(t, tt.in, err)
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("Parse(%q) message %q, want it to contain %q", tt.in, e.Message, tt.msg)
			}
			if len(tt.in) > 100 && strings.Contains(e.Message, strings.TrimSpace(tt.in)) {
				t.Errorf("Parse(long input) message echoes the input: %q", e.Message)
			}
		})
	}
}

// TestParsePasscodeNotEchoed checks that a refused link's passcode stays out
// of the message: it is a secret.
func TestParsePasscodeNotEchoed(t *testing.T) {
	for _, in := range []string{
		"https://zoom.us/j/85012345678?pwd=S3cr3tPass%00",
		"https://zoom.us/j/850?pwd=S3cr3tPass",
		"https://zoom.us/my/jane?pwd=S3cr3tPass",
		"https://zoom.us/j/85012345678?pwd=S3cr3tPass%zz",
		"https://www.google.com/url?q=https%3A%2F%2Fevil.example%2Fj%2F85012345678%3Fpwd%3DS3cr3tPass",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Fatalf("Parse(%q) succeeded, want an error", in)
		}
		if msg := checkError(t, in, err).Message; strings.Contains(msg, "S3cr3t") {
			t.Errorf("Parse(%q) message quotes the passcode: %q", in, msg)
		}
	}
}

// checkError checks that err is a well-formed EINVALID *onbehalf.Error and
// returns it.
func checkError(t *testing.T, in string, err error) *onbehalf.Error {
	t.Helper()
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
	return e
}

func FuzzParse(f *testing.F) {
	for _, tt := range allTests() {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := Parse(in)
		if err != nil {
			checkError(t, in, err)
			if m != (onbehalf.Meeting{}) {
				t.Fatalf("Parse(%q) returned %+v along with an error", in, m)
			}
			return
		}
		checkMeeting(t, in, m)
		if again, err := Parse(m.URL); err != nil || again != m {
			t.Fatalf("Parse(%q) = %+v; Parse(%q) = %+v, %v: want the same meeting", in, m, m.URL, again, err)
		}
		// A link pasted with words around it names the same meeting, or none.
		if !strings.ContainsFunc(in, unicode.IsSpace) && len(in)+20 <= MaxLen {
			text := "Join Zoom Meeting: " + in + "\n"
			if inText, err := Parse(text); err == nil && (inText.ID != m.ID || urlHost(inText.URL) != urlHost(m.URL)) {
				t.Fatalf("Parse(%q) = %+v; Parse(%q) = %+v: want the same meeting", in, m, text, inText)
			}
		}
	})
}

// checkMeeting checks the invariants of a meeting Parse returned for in.
func checkMeeting(t *testing.T, in string, m onbehalf.Meeting) {
	t.Helper()
	if len(m.ID) < onbehalf.MinMeetingDigits || len(m.ID) > onbehalf.MaxMeetingDigits {
		t.Fatalf("Parse(%q) ID %q: want %d to %d digits", in, m.ID, onbehalf.MinMeetingDigits, onbehalf.MaxMeetingDigits)
	}
	if strings.Trim(m.ID, "0123456789") != "" {
		t.Fatalf("Parse(%q) ID %q: not all ASCII digits", in, m.ID)
	}
	u, err := url.Parse(m.URL)
	if err != nil {
		t.Fatalf("Parse(%q) URL %q: %v", in, m.URL, err)
	}
	host := u.Host
	zoom := false
	for _, d := range []string{"zoom.us", "zoom.com", "zoomgov.com"} {
		zoom = zoom || host == d || strings.HasSuffix(host, "."+d)
	}
	if u.Scheme != "https" || u.User != nil || u.Port() != "" || !zoom || host != strings.ToLower(host) || strings.ContainsAny(host, "@:/\\%") {
		t.Fatalf("Parse(%q) URL %q: want https on a lower-case Zoom host", in, m.URL)
	}
	if u.EscapedPath() != "/j/"+m.ID || u.Fragment != "" || u.Opaque != "" {
		t.Fatalf("Parse(%q) URL %q: want the path /j/%s and nothing else", in, m.URL, m.ID)
	}
	q, err := url.ParseQuery(u.RawQuery)
	switch {
	case err != nil:
		t.Fatalf("Parse(%q) URL %q: query: %v", in, m.URL, err)
	case m.Password == "" && u.RawQuery != "":
		t.Fatalf("Parse(%q) URL %q: a query without a passcode", in, m.URL)
	case m.Password != "" && (len(q) != 1 || len(q["pwd"]) != 1 || q.Get("pwd") != m.Password):
		t.Fatalf("Parse(%q) URL %q: want the one parameter pwd=%q", in, m.URL, m.Password)
	}
	for _, r := range m.Password {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			t.Fatalf("Parse(%q) passcode %q holds a control character", in, m.Password)
		}
	}
	if !strings.Contains(in, "%") {
		// Without escapes, the ID and the passcode are in the input as typed.
		squeezed := strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(in)
		if !strings.Contains(squeezed, m.ID) {
			t.Fatalf("Parse(%q) ID %q: not in the input", in, m.ID)
		}
		if m.Password != "" && !strings.Contains(strings.ToLower(in), "pwd=") {
			t.Fatalf("Parse(%q) passcode %q: the input has no pwd=", in, m.Password)
		}
	}
}

// urlHost returns the host of a canonical URL.
func urlHost(u string) string {
	host, _, _ := strings.Cut(strings.TrimPrefix(u, "https://"), "/")
	return host
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

func BenchmarkParseInvitation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(zoomInvitation); err != nil {
			b.Fatal(err)
		}
	}
}
