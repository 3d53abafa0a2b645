package meetingurl

import "strings"

// zoomInvitation is the text Zoom's "Copy invitation" button gives, dial-in
// numbers and all: the one-tap lines hold phone numbers next to the ID, and
// other Zoom pages are linked.
const zoomInvitation = `Jane Doe is inviting you to a scheduled Zoom meeting.

Topic: Weekly sync
Time: Dec 1, 2026 10:00 AM Eastern Time (US and Canada)

Join Zoom Meeting
https://us02web.zoom.us/j/85012345678?pwd=aBcDeFgHiJkLmNoPqRsTuVwXyZ012.1

Meeting ID: 850 1234 5678
Passcode: 123456

---

One tap mobile
+16465588656,,85012345678#,,,,*123456# US (New York)
+16469313860,,85012345678#,,,,*123456# US

---

Dial by your location
• +1 646 558 8656 US (New York)
• +1 646 931 3860 US
• +1 301 715 8592 US (Washington DC)
• +1 312 626 6799 US (Chicago)

Meeting ID: 850 1234 5678
Passcode: 123456

Find your local number: https://us02web.zoom.us/u/kdXyZ12aB

Join by SIP
• 85012345678@zoomcrc.com

Join by H.323
• 162.255.37.11 (US West)
• 162.255.36.11 (US East)
Meeting ID: 850 1234 5678
Passcode: 123456

Join instructions
https://us02web.zoom.us/meetings/85012345678/invitations?signature=AbCdEf0123
`

// dialInOnly is the second half of an invitation: no link, only phone
// numbers and the meeting ID line.
const dialInOnly = `One tap mobile
+16465588656,,85012345678#,,,,*123456# US (New York)
+16469313860,,85012345678#,,,,*123456# US

Dial by your location
• +1 646 558 8656 US (New York)
Meeting ID: 850 1234 5678
Passcode: 123456
Find your local number: https://us02web.zoom.us/u/kdXyZ12aB
`

// phonesOnly has phone numbers and no meeting ID line.
const phonesOnly = `One tap mobile
+16465588656,,85012345678#,,,,*123456# US (New York)
+1 646 558 8656 US (New York)
`

// googleCalendarEvent is the description of an event Zoom's Google Calendar
// add-on made, as copied from the event page: every link goes through
// Google's redirector.
const googleCalendarEvent = `Jane Doe is inviting you to a scheduled Zoom meeting.
Join Zoom Meeting
https://www.google.com/url?q=https://us02web.zoom.us/j/85012345678?pwd%3DaBc.1&sa=D&source=calendar&ust=1764600000000000&usg=AOvVaw2abcdEFGH

Meeting ID: 850 1234 5678
Passcode: 123456

Joining instructions: https://www.google.com/url?q=https://applications.zoom.us/addon/invitation/detail?meetingUuid%3DAbCdEf%253D%253D%26signature%3Dabc%26v%3D1&sa=D&source=calendar&usg=AOvVaw3xyz
`

// personalRoomInvitation invites to a personal meeting room through a
// personal link: the ID is in the text only.
const personalRoomInvitation = `Jane Doe is inviting you to a scheduled Zoom meeting.

Join Zoom Meeting
https://acme.zoom.us/my/jane.doe?pwd=PmRpwd123

Meeting ID: 123 456 7890
Passcode: 4321
`

var textTests = []parseTest{
	// A link with words around it.
	{name: "join text", in: "Join Zoom Meeting https://us02web.zoom.us/j/85012345678?pwd=abc.1 Meeting ID: 850 1234 5678 Passcode: 123456", want: "https://us02web.zoom.us/j/85012345678?pwd=abc.1", pwd: "abc.1"},
	{name: "passcode in parentheses", in: "https://zoom.us/j/85012345678 (Passcode: 123456)", want: "https://zoom.us/j/85012345678"},
	{name: "passcode glued", in: "https://us06web.zoom.us/j/88240852079(Passcode: 584706)", want: "https://us06web.zoom.us/j/88240852079"},
	{name: "password in parentheses", in: "https://zoom.us/j/1234567890 (Password: 123456)", want: "https://zoom.us/j/1234567890"},
	{name: "sentence", in: "Please join https://zoom.us/j/85012345678.", want: "https://zoom.us/j/85012345678"},
	{name: "sentence paren comma", in: "Zoom (https://zoom.us/j/85012345678), or phone", want: "https://zoom.us/j/85012345678"},
	{name: "angle brackets in text", in: "Join: <https://zoom.us/j/85012345678>", want: "https://zoom.us/j/85012345678"},
	{name: "label glued", in: "Zoom Link:https://zoom.us/j/85012345678?pwd=abc;", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "no scheme in text", in: "go to us02web.zoom.us/j/85012345678?pwd=abc, thanks", want: "https://us02web.zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "markdown", in: "[Join the meeting](https://zoom.us/j/85012345678?pwd=abc)", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "html", in: `<a href="https://zoom.us/j/85012345678?pwd=abc&amp;uname=Ann">Join</a>`, want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "app link in text", in: "Open zoommtg://zoom.us/join?confno=85012345678&pwd=abc in the app", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "zoomgov in text", in: "Join ZoomGov Meeting\nhttps://agency.zoomgov.com/j/1612345678?pwd=g0v\n", want: "https://agency.zoomgov.com/j/1612345678?pwd=g0v", pwd: "g0v"},
	{name: "tab and nbsp", in: "Join\thttps://zoom.us/j/85012345678\u00a0now", want: "https://zoom.us/j/85012345678"},
	{name: "crlf", in: "Join Zoom Meeting\r\nhttps://zoom.us/j/85012345678?pwd=abc\r\nMeeting ID: 850 1234 5678\r\n", want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "same meeting twice", in: "https://zoom.us/j/85012345678 or https://us02web.zoom.us/j/85012345678?pwd=abc", want: "https://us02web.zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "comma in passcode", in: "Join https://zoom.us/j/85012345678?pwd=a,b; thanks", want: "https://zoom.us/j/85012345678?pwd=a%2Cb", pwd: "a,b"},
	{name: "link and bad ID line", in: "https://zoom.us/j/85012345678\nMeeting ID: 850 1234 5678 123456", want: "https://zoom.us/j/85012345678"},
	{name: "other sites skipped", in: "Agenda: https://docs.example.com/d/1 Join: https://zoom.us/j/85012345678 Files: https://www.dropbox.com/s/abc/notes.pdf", want: "https://zoom.us/j/85012345678"},
	{name: "other zoom pages skipped", in: "Help: https://support.zoom.us/hc/en-us Join: https://zoom.us/j/85012345678", want: "https://zoom.us/j/85012345678"},

	// Whole invitations.
	{name: "zoom invitation", in: zoomInvitation, want: "https://us02web.zoom.us/j/85012345678?pwd=aBcDeFgHiJkLmNoPqRsTuVwXyZ012.1", pwd: "aBcDeFgHiJkLmNoPqRsTuVwXyZ012.1"},
	{name: "google calendar event", in: googleCalendarEvent, want: "https://us02web.zoom.us/j/85012345678?pwd=aBc.1", pwd: "aBc.1"},
	{name: "personal room invitation", in: personalRoomInvitation, want: "https://acme.zoom.us/j/1234567890?pwd=PmRpwd123", pwd: "PmRpwd123"},

	// No link: the "Meeting ID" line.
	{name: "dial-in only", in: dialInOnly, want: "https://zoom.us/j/85012345678"},
	{name: "meeting ID line", in: "Meeting ID: 850 1234 5678", want: "https://zoom.us/j/85012345678"},
	{name: "meeting ID and passcode", in: "Meeting ID: 850 1234 5678 Passcode: 123456", want: "https://zoom.us/j/85012345678"},
	{name: "meeting ID no colon", in: "meeting id 85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "meeting ID next line", in: "Meeting ID:\n850-1234-5678\n", want: "https://zoom.us/j/85012345678"},
	{name: "meeting ID nbsp", in: "Meeting ID:\u00a0850\u00a01234\u00a05678 ", want: "https://zoom.us/j/85012345678"},
	{name: "webinar ID", in: "Webinar ID: 850 1234 5678\nPasscode: 1", want: "https://zoom.us/j/85012345678"},
	{name: "german", in: "Meeting-ID: 850 1234 5678\nKenncode: 123456", want: "https://zoom.us/j/85012345678"},
	{name: "french", in: "ID de réunion : 850 1234 5678\nCode secret : 123456", want: "https://zoom.us/j/85012345678"},
	{name: "japanese", in: "ミーティングID: 850 1234 5678\nパスコード: 123456", want: "https://zoom.us/j/85012345678"},
	{name: "label without digits skipped", in: "Meeting ID below.\nMeeting ID: 850 1234 5678", want: "https://zoom.us/j/85012345678"},

	// Rejections.
	{name: "evil link in text", in: "Join: https://evil.example/j/85012345678 Meeting ID: 850 1234 5678", msg: `the host must be zoom.us, zoom.com or zoomgov.com (or a subdomain), not "evil.example"`},
	{name: "evil link before zoom link", in: "https://zoom.us.evil.com/j/85012345678 https://zoom.us/j/85012345678", msg: `not "zoom.us.evil.com"`},
	{name: "look-alike in text", in: "Join Zoom Meeting\nhttps://evilzoom.us/wc/85012345678/join\n", msg: "the host must be"},
	{name: "userinfo in text", in: "Join https://zoom.us@evil.com/j/85012345678 now", msg: "user name"},
	{name: "evil app link in text", in: "Open zoommtg://evil.com/join?confno=85012345678 now", msg: "the host must be"},
	{name: "personal link in text", in: "Join my room: https://zoom.us/my/jane.doe thanks", msg: "That is a Zoom personal link (/my/jane.doe): it carries no meeting ID."},
	{name: "bad ID in text", in: "Join https://zoom.us/j/8501234 now", msg: "(got 7)"},
	{name: "bad passcode in text", in: "Join https://zoom.us/j/85012345678?pwd=a%07b now", msg: "control"},
	{name: "short ID line", in: "Meeting ID: 850 1234\nPasscode: 1", msg: "Meeting ID must have 9 to 12 digits (got 7)."},
	{name: "long ID line", in: "Meeting ID: 850 1234 5678 9012", msg: "(got 15)"},
	{name: "two meetings", in: "https://zoom.us/j/85012345678 and https://zoom.us/j/85012345679", msg: "more than one meeting (85012345678 and 85012345679)"},
	{name: "link and other ID line", in: "https://us02web.zoom.us/j/85012345678?pwd=abc\nMeeting ID: 999 1234 5678", msg: "more than one meeting (85012345678 and 99912345678)"},
	{name: "two ID lines", in: "Meeting ID: 850 1234 5678\nMeeting ID: 850 1234 5679", msg: "more than one meeting"},
	{name: "no link no ID", in: "Let's meet tomorrow at 10", msg: "That text has neither a Zoom meeting link nor a meeting ID."},
	{name: "phone numbers only", in: phonesOnly, msg: "neither a Zoom meeting link nor a meeting ID"},
	{name: "one-tap line", in: "+16465588656,,85012345678#,,,,*123456#", msg: "neither"},
	{name: "phone number", in: "+16465588656", msg: "neither"},
	{name: "phone number spaced", in: "+1 646 558 8656", msg: "neither"},
	{name: "phone number parens", in: "(646) 558-8656", msg: "neither"},
	{name: "tel link", in: "tel:+16465588656,,85012345678#", msg: "not supported"},
	{name: "other zoom page only", in: "Find your local number: https://us02web.zoom.us/u/kdXyZ12aB", msg: "neither"},
	{name: "other site only", in: "See https://www.dropbox.com/s/abc/notes.pdf for notes", msg: "neither"},
	{name: "teams link", in: "Join: https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0 ID 123", msg: "neither"},
	{name: "ftp in text", in: "get ftp://zoom.us/j/85012345678 now", msg: "neither"},
	{name: "long text", in: strings.Repeat("word ", 3000), msg: "neither"},
	{name: "long text ID", in: "Meeting ID: " + strings.Repeat("1 ", 3000), msg: "(got 3000)"},
}
