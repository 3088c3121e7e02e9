package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/scheduler"
)

// chartDays is the span of the chart: today and the 364 days after it.
const chartDays = 365

// Layout of the chart, in SVG user units (pixels).
const (
	chartWidth   = 1240
	plotLeft     = 64
	plotRight    = 120 // room for the labels of the cap lines
	plotTop      = 112
	panelHeight  = 230
	panelGap     = 70 // between the panels: month labels and the next title
	chartBottom  = 46
	colorOther   = "#9ecae1"
	colorED      = "#08519c"
	colorCap     = "#d62728"
	colorShed    = "#ff7f0e"
	colorSoft    = "#08519c"
	colorAEP     = "#fff3c4"
	colorLater   = "#eeeeee"
	colorGrid    = "#e5e5e5"
	colorText    = "#222222"
	colorSubtext = "#555555"
)

// writeChart draws the pre-scheduled emails per day of the next 12 months
// before and after load balancing (rep.Balance), as an SVG document: one bar
// per day, the effective-date emails as a darker segment at its foot, the
// daily cap, the overflow threshold and the effective-date soft limit as
// horizontal lines, the AEP send windows as yellow bands, and the days
// after rep.PlannedThrough shaded grey: their emails are not all planned
// yet, so the volume falling off there means "planned later", not "nothing
// to send". name is the database's name, for the title.
func writeChart(w io.Writer, rep *scheduler.Report, name string) error {
	c := &chart{rep: rep}
	if rep.Balance != nil {
		c.bal = rep.Balance
	} else {
		c.bal = &loadbalance.Report{}
	}
	c.before = c.days(c.bal.Before)
	c.after = c.days(c.bal.After)
	c.scale()

	height := plotTop + 2*panelHeight + panelGap + chartBottom
	b := &c.buf
	fmt.Fprintf(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12" fill="%s">`+"\n",
		chartWidth, height, chartWidth, height, colorText)
	last := rep.Today.AddDays(chartDays - 1)
	title := fmt.Sprintf("Pre-scheduled emails per day, %s to %s — %s", rep.Today, last, name)
	fmt.Fprintf(b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="28" font-size="18" font-weight="bold">%s</text>`+"\n", plotLeft, esc(title))
	sub := fmt.Sprintf("run %s · %d valid contacts · rules %s · %d emails moved (%d effective-date smoothing, %d overflow)",
		rep.RunID, rep.Valid, rep.RulesName, c.bal.Moved, c.bal.EDSmoothed, c.bal.Overflowed)
	if rep.Balance == nil {
		sub = fmt.Sprintf("run %s · %d valid contacts · load balancing disabled", rep.RunID, rep.Valid)
	}
	fmt.Fprintf(b, `<text x="%d" y="48" fill="%s">%s</text>`+"\n", plotLeft, colorSubtext, esc(sub))
	c.legend(72)

	c.panel("before", "Before load balancing", plotTop, c.before)
	c.panel("after", "After load balancing", plotTop+panelHeight+panelGap, c.after)
	fmt.Fprintln(b, "</svg>")
	_, err := w.Write(b.Bytes())
	return err
}

type chart struct {
	rep           *scheduler.Report
	bal           *loadbalance.Report
	before, after []loadbalance.DayVolume // chartDays days from today
	ymax          int
	step          int
	clip          int // bars above clip are cut at the top of the panel; 0: none
	buf           bytes.Buffer
}

// days spreads vols over the chart's days (zero volume where none).
func (c *chart) days(vols []loadbalance.DayVolume) []loadbalance.DayVolume {
	out := make([]loadbalance.DayVolume, chartDays)
	for i := range out {
		out[i].Date = c.rep.Today.AddDays(i)
	}
	for _, v := range vols {
		if i := datecalc.DaysBetween(c.rep.Today, v.Date); i >= 0 && i < chartDays {
			out[i] = v
		}
	}
	return out
}

// scale picks the y range: a round number above the busiest day and the
// threshold, with 4 to 6 grid steps. A few days far busier than the rest
// (the AEP day) would flatten every other bar: when the busiest day exceeds
// twice the larger of the threshold and the 98th percentile, the range stops
// there and those bars are cut, marked and labelled with their value.
func (c *chart) scale() {
	totals := make([]int, 0, 2*chartDays)
	for _, v := range append(c.before, c.after...) {
		totals = append(totals, v.Total)
	}
	slices.Sort(totals)
	busiest := totals[len(totals)-1]
	usual := max(c.bal.Threshold, c.bal.Cap, totals[len(totals)*98/100], 1)
	top := max(busiest, usual)
	if busiest > 2*usual {
		top = usual + usual/4
		c.clip = top
	}
	mag := math.Pow(10, math.Floor(math.Log10(float64(top)/5)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step := m * mag; float64(top)/step <= 5 {
			c.step = max(1, int(math.Ceil(step)))
			break
		}
	}
	c.ymax = (top/c.step + 1) * c.step
}

func (c *chart) y(top int, v float64) float64 {
	return float64(top) + panelHeight - v/float64(c.ymax)*panelHeight
}

// legend draws the key of the colours and lines at y.
func (c *chart) legend(y int) {
	b := &c.buf
	x := plotLeft
	item := func(mark, label string) {
		fmt.Fprint(b, mark)
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", x+18, y+4, esc(label))
		x += 18 + int(6.6*float64(len(label))) + 24
	}
	item(fmt.Sprintf(`<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`, x, y-7, colorOther), "other emails")
	item(fmt.Sprintf(`<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`, x, y-7, colorED), "effective-date emails")
	item(fmt.Sprintf(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="6 3"/>`, x, y, x+14, y, colorCap), "daily cap")
	item(fmt.Sprintf(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="2 3"/>`, x, y, x+14, y, colorShed), "overflow threshold (excess moves)")
	item(fmt.Sprintf(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="1 2"/>`, x, y, x+14, y, colorSoft), "effective-date soft limit")
	item(fmt.Sprintf(`<rect x="%d" y="%d" width="12" height="12" fill="%s" stroke="#d9b200"/>`, x, y-7, colorAEP), "AEP send window")
	item(fmt.Sprintf(`<rect x="%d" y="%d" width="12" height="12" fill="%s" stroke="#bbbbbb"/>`, x, y-7, colorLater), "not all planned yet")
}

// bands shades the AEP send windows and the days after the planning
// horizon behind the bars of a panel.
func (c *chart) bands(top, width int, bw float64) {
	b := &c.buf
	x := func(d datecalc.Date) float64 {
		return float64(plotLeft) + float64(datecalc.DaysBetween(c.rep.Today, d))*bw
	}
	last := c.rep.Today.AddDays(chartDays - 1)
	for _, w := range c.rep.AEPWindows {
		if w.End.Before(c.rep.Today) || w.Start.After(last) {
			continue
		}
		from, to := x(datecalc.Max(w.Start, c.rep.Today)), x(datecalc.Min(w.End, last))+bw
		fmt.Fprintf(b, `<rect class="aep" x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"><title>AEP send window %s to %s</title></rect>`+"\n",
			from, top, to-from, panelHeight, colorAEP, w.Start, w.End)
		fmt.Fprintf(b, `<text x="%.2f" y="%d" font-size="10" fill="#8a6d00">AEP</text>`+"\n", from+2, top+11)
	}
	if p := c.rep.PlannedThrough; !p.IsZero() && p.Before(last) {
		from := x(p) + bw
		fmt.Fprintf(b, `<rect class="later" x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"><title>after %s: not all planned yet (anniversaries more than a year ahead are planned by later runs)</title></rect>`+"\n",
			from, top, float64(plotLeft+width)-from, panelHeight, colorLater, p)
		fmt.Fprintf(b, `<text x="%.2f" y="%d" font-size="10" text-anchor="end" fill="%s">planned later →</text>`+"\n", float64(plotLeft+width)-2, top+11, colorSubtext)
	}
}

// panel draws one bar chart with its axes, grid and cap lines.
func (c *chart) panel(id, title string, top int, days []loadbalance.DayVolume) {
	b := &c.buf
	width := chartWidth - plotLeft - plotRight
	bw := float64(width) / chartDays
	bottom := top + panelHeight
	fmt.Fprintf(b, `<g class="panel" id="%s">`+"\n", id)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", plotLeft, top-10, esc(title))
	c.bands(top, width, bw)
	// grid and y labels
	for v := 0; v <= c.ymax; v += c.step {
		y := c.y(top, float64(v))
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", plotLeft, y, plotLeft+width, y, colorGrid)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">%d</text>`+"\n", plotLeft-6, y+4, colorSubtext, v)
	}
	fmt.Fprintf(b, `<text transform="translate(%d %d) rotate(-90)" text-anchor="middle" fill="%s">emails per day</text>`+"\n", 16, top+panelHeight/2, colorSubtext)
	// bars
	for i, d := range days {
		x := float64(plotLeft) + float64(i)*bw
		label := fmt.Sprintf("%s: %d emails, %d effective date", d.Date, d.Total, d.ED)
		if d.Arrived > 0 || d.Left > 0 {
			label += fmt.Sprintf(" (%d moved in, %d moved out)", d.Arrived, d.Left)
		}
		y := c.y(top, float64(min(d.Total, c.ymax)))
		fmt.Fprintf(b, `<rect class="total" x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s</title></rect>`+"\n",
			x, y, bw*0.85, float64(bottom)-y, colorOther, esc(label))
		if c.clip > 0 && d.Total > c.ymax {
			// a cut bar: a white notch near its top and its value above it
			fmt.Fprintf(b, `<rect class="cut" x="%.2f" y="%.2f" width="%.2f" height="3" fill="#ffffff"/>`+"\n", x-1, y+8, bw*0.85+2)
			fmt.Fprintf(b, `<text x="%.2f" y="%.2f" text-anchor="middle" font-size="11" font-weight="bold">%s (cut)</text>`+"\n", x+bw/2, y-4, thousands(d.Total))
		}
		if d.ED > 0 {
			ye := c.y(top, float64(d.ED))
			fmt.Fprintf(b, `<rect class="ed" x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"/>`+"\n", x, ye, bw*0.85, float64(bottom)-ye, colorED)
		}
	}
	// x axis and month labels
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`+"\n", plotLeft, bottom, plotLeft+width, bottom, colorText)
	for i, d := range days {
		if d.Date.Day() != 1 && i != 0 {
			continue
		}
		x := float64(plotLeft) + float64(i)*bw
		fmt.Fprintf(b, `<line x1="%.2f" y1="%d" x2="%.2f" y2="%d" stroke="%s"/>`+"\n", x, bottom, x, bottom+5, colorText)
		if d.Date.Day() != 1 && days[0].Date.AddDays(20).Month() != d.Date.Month() {
			continue // the first, partial month is labelled only when it has room
		}
		label := d.Date.Month().String()[:3]
		if d.Date.Month() == 1 || i == 0 {
			label += fmt.Sprintf(" %d", d.Date.Year())
		}
		fmt.Fprintf(b, `<text class="month" x="%.2f" y="%d">%s</text>`+"\n", x+3, bottom+18, esc(label))
	}
	// cap and threshold
	if c.bal.Cap > 0 {
		y := c.y(top, float64(c.bal.Cap))
		fmt.Fprintf(b, `<line class="cap" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="6 3"/>`+"\n", plotLeft, y, plotLeft+width, y, colorCap)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" fill="%s">daily cap %d</text>`+"\n", plotLeft+width+6, y+4, colorCap, c.bal.Cap)
		if c.bal.Threshold > c.bal.Cap {
			yt := c.y(top, float64(c.bal.Threshold))
			// keep the two labels apart when the lines are close
			ly := min(yt+4, y-10)
			fmt.Fprintf(b, `<line class="threshold" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="2 3"/>`+"\n", plotLeft, yt, plotLeft+width, yt, colorShed)
			fmt.Fprintf(b, `<text x="%d" y="%.1f" fill="%s">threshold %d</text>`+"\n", plotLeft+width+6, ly, colorShed, c.bal.Threshold)
		}
	}
	if s := c.bal.EDSoftLimit; s > 0 {
		// It bounds the effective-date segment of each bar.
		ys := c.y(top, float64(s))
		fmt.Fprintf(b, `<line class="ed-soft-limit" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="1 2"/>`+"\n", plotLeft, ys, plotLeft+width, ys, colorSoft)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" fill="%s">ED soft limit %d</text>`+"\n", plotLeft+width+6, min(ys+4, float64(bottom)), colorSoft, s)
	}
	fmt.Fprintln(b, "</g>")
}

// esc escapes text for XML character data and attribute values.
func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s)) // writes to a bytes.Buffer: cannot fail
	return b.String()
}
