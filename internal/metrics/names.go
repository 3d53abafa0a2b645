package metrics

// The names of the series `onbehalf doctor` reads from a running server to
// tell what Zoom's app review looks at: how often connections are
// refreshed, and how many Zoom calls fail.
const (
	// NameRefreshes counts token pair refreshes by result.
	NameRefreshes = "onbehalf_refreshes_total"
	// NameEarlyRefreshes counts refreshes that came less than half of the
	// replaced access token's lifetime after it was issued.
	NameEarlyRefreshes = "onbehalf_refreshes_early_total"
	// NameAheadRefreshes counts refreshes made ahead of a bot's join.
	NameAheadRefreshes = "onbehalf_refreshes_ahead_total"
	// NameZoomRefreshDuration and NameZoomMintDuration time every Zoom
	// call by result: their _count series count the calls.
	NameZoomRefreshDuration = "onbehalf_zoom_refresh_duration_seconds"
	NameZoomMintDuration    = "onbehalf_zoom_mint_duration_seconds"
)
