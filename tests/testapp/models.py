"""Models of a site that uses the package, as a site developer would write them."""
