"""The request edge: what every response carries, whichever surface answers."""
