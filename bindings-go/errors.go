package leaksense

import "errors"

// Code is a stable error code, the same number and name in every leaksense language.
type Code uint32

// The error codes of the core (leaksense_error_code_t in the C header).
const (
	CodeNonFiniteValue Code = 1 // a value is NaN or infinite
	CodeOutOfOrder     Code = 2 // a timestamp is not after the previous one
	CodeEmptyInput     Code = 3 // no samples, or too few for the operation
	CodeInvalidOption  Code = 4 // an option or argument is unknown or out of range
	CodeIO             Code = 5 // the operating system refused a read
	CodeParse          Code = 6 // a source could not be parsed
	CodeUnsupported    Code = 7 // not available on this platform or build (no cgo)
	CodeClosed         Code = 8 // the monitor was closed
	CodeInternal       Code = 9 // a bug inside leaksense
)

var codeNames = map[Code]string{
	CodeNonFiniteValue: "non_finite_value",
	CodeOutOfOrder:     "out_of_order",
	CodeEmptyInput:     "empty_input",
	CodeInvalidOption:  "invalid_option",
	CodeIO:             "io",
	CodeParse:          "parse",
	CodeUnsupported:    "unsupported",
	CodeClosed:         "closed",
	CodeInternal:       "internal",
}

// String gives the stable name ("non_finite_value", ...), or "unknown".
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return "unknown"
}

// Error is every error leaksense returns: a stable Code and the core's message.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return "leaksense: " + e.Code.String() + ": " + e.Message }

// Is makes errors.Is(err, ErrClosed) (and the other sentinels) match on the code alone.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrClosed      = &Error{Code: CodeClosed, Message: "the monitor is closed"}
	ErrUnsupported = &Error{Code: CodeUnsupported, Message: "leaksense needs cgo (CGO_ENABLED=1) and libleaksense_ffi.a"}
)

func invalid(msg string) error { return &Error{Code: CodeInvalidOption, Message: msg} }
