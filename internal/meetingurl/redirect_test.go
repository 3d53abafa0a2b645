package meetingurl

import "net/url"

// safelink wraps link in an Outlook safe link, as Microsoft 365 rewrites the
// links of a mail.
func safelink(link string) string {
	return "https://nam12.safelinks.protection.outlook.com/?url=" + url.QueryEscape(link) +
		"&data=05%7C02%7Cjane%40acme.com%7C0123456789abcdef%7C72f988bf86f141af91ab2d7cd011db47%7C1%7C0%7C638000000000000000%7CUnknown%7CTWFpbGZsb3d8eyJWIjoiMC4wLjAwMDAiLCJQIjoiV2luMzIiLCJBTiI6Ik1haWwiLCJXVCI6Mn0%3D%7C0%7C%7C%7C&sdata=abcDEF%2Bghi%3D&reserved=0"
}

// googleRedirect wraps link in Google's redirector, as Gmail and Google
// Calendar do.
func googleRedirect(link string) string {
	return "https://www.google.com/url?q=" + url.QueryEscape(link) + "&sa=D&source=calendar&ust=1764600000000000&usg=AOvVaw2abcdEFGH"
}

var redirectTests = []parseTest{
	{name: "google", in: googleRedirect("https://us02web.zoom.us/j/85012345678?pwd=abc.1"), want: "https://us02web.zoom.us/j/85012345678?pwd=abc.1", pwd: "abc.1"},
	{name: "google unescaped", in: "https://www.google.com/url?q=https://zoom.us/j/1122334455?pwd=abc123", want: "https://zoom.us/j/1122334455?pwd=abc123", pwd: "abc123"},
	{name: "google url param", in: "https://google.com/url?sa=t&url=https%3A%2F%2Fzoom.us%2Fj%2F85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "google no scheme", in: "www.google.com/url?q=https://zoom.us/j/85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "google app link", in: googleRedirect("zoommtg://zoom.us/join?confno=85012345678&pwd=abc"), want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "google escaped passcode", in: googleRedirect("https://zoom.us/j/85012345678?pwd=a%2Bb"), want: "https://zoom.us/j/85012345678?pwd=a%2Bb", pwd: "a+b"},
	{name: "safelink", in: safelink("https://us02web.zoom.us/j/85012345678?pwd=abc.1"), want: "https://us02web.zoom.us/j/85012345678?pwd=abc.1", pwd: "abc.1"},
	{name: "safelink eur", in: "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Facme.zoom.us%2Fj%2F85012345678&data=x&reserved=0", want: "https://acme.zoom.us/j/85012345678"},
	{name: "safelink no slash", in: "https://nam04.safelinks.protection.outlook.com?url=https%3A%2F%2Fzoom.us%2Fj%2F85012345678", want: "https://zoom.us/j/85012345678"},
	{name: "safelink gov", in: "https://gcc02.safelinks.protection.office365.us/?url=https%3A%2F%2Fagency.zoomgov.com%2Fj%2F1612345678&data=x", want: "https://agency.zoomgov.com/j/1612345678"},
	{name: "safelink of google", in: safelink(googleRedirect("https://zoom.us/j/85012345678?pwd=abc")), want: "https://zoom.us/j/85012345678?pwd=abc", pwd: "abc"},
	{name: "google of safelink", in: googleRedirect(safelink("https://zoom.us/wc/85012345678/join")), want: "https://zoom.us/j/85012345678"},
	{name: "safelink in brackets", in: "<" + safelink("https://zoom.us/j/85012345678") + ">", want: "https://zoom.us/j/85012345678"},
	{name: "safelink in text", in: "Join Zoom Meeting\n<" + safelink("https://us02web.zoom.us/j/85012345678?pwd=abc.1") + ">\nMeeting ID: 850 1234 5678\n", want: "https://us02web.zoom.us/j/85012345678?pwd=abc.1", pwd: "abc.1"},

	{name: "google evil", in: "https://www.google.com/url?q=https://evil.example/j/85012345678", msg: `not "evil.example"`},
	{name: "google evil escaped", in: googleRedirect("https://evil.example/j/85012345678?pwd=abc"), msg: `not "evil.example"`},
	{name: "safelink evil", in: safelink("https://zoom.us.evil.com/j/85012345678"), msg: `not "zoom.us.evil.com"`},
	{name: "nested evil", in: safelink(googleRedirect("https://evilzoom.us/j/85012345678")), msg: `not "evilzoom.us"`},
	{name: "google userinfo inside", in: googleRedirect("https://zoom.us@evil.com/j/85012345678"), msg: "user name"},
	{name: "google personal link", in: googleRedirect("https://zoom.us/my/jane"), msg: "personal link"},
	{name: "google short ID", in: googleRedirect("https://zoom.us/j/8501234"), msg: "(got 7)"},
	{name: "google javascript", in: googleRedirect("javascript:alert(1)"), msg: "not supported"},
	{name: "three redirects", in: googleRedirect(safelink(googleRedirect("https://zoom.us/j/85012345678"))), msg: "too many redirect links"},
	{name: "google no target", in: "https://www.google.com/url?sa=D&usg=x", msg: "Google link wraps no meeting link"},
	{name: "google empty target", in: "https://www.google.com/url?q=&sa=D", msg: "wraps no meeting link"},
	{name: "google garbled", in: "https://www.google.com/url?q=https%3A%2F%2Fzoom.us%2Fj%2F850%zz", msg: "garbled"},
	{name: "google search", in: "https://www.google.com/search?q=https://zoom.us/j/85012345678", msg: `not "www.google.com"`},
	{name: "google look-alike", in: "https://www.google.com.evil.com/url?q=https://zoom.us/j/85012345678", msg: "the host must be"},
	{name: "google other port", in: "https://www.google.com:8443/url?q=https://zoom.us/j/85012345678", msg: "the host must be"},
	{name: "google userinfo", in: "https://zoom.us@www.google.com/url?q=https://zoom.us/j/85012345678", msg: "user name"},
	{name: "safelink look-alike", in: "https://safelinks.protection.outlook.com.evil.com/?url=https%3A%2F%2Fzoom.us%2Fj%2F85012345678", msg: "the host must be"},
	{name: "safelink bare domain", in: "https://safelinks.protection.outlook.com/?url=https%3A%2F%2Fzoom.us%2Fj%2F85012345678", msg: "the host must be"},
	{name: "safelink other path", in: "https://nam12.safelinks.protection.outlook.com/x?url=https%3A%2F%2Fzoom.us%2Fj%2F85012345678", msg: "the host must be"},
	{name: "evil redirect in text", in: "Join Zoom Meeting " + googleRedirect("https://evil.example/j/85012345678") + " Meeting ID: 850 1234 5678", msg: `not "evil.example"`},
}
