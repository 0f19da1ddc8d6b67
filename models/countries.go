package models

// unMembers holds the ISO codes of the 193 UN member states. The CSV does not carry
// membership, so it is kept here.
var unMembers = map[string]bool{}

// unObservers holds the ISO codes of the two UN non-member observer states.
var unObservers = map[string]bool{"VA": true, "PS": true}
