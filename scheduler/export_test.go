package scheduler

// LastSendDay gives the external tests the last legal day of an email under
// the default settings (lastSendDay).
var LastSendDay = lastSendDay
