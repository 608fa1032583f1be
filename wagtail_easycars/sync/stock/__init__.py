"""Stock in: EasyCars GetAdvertisementStocks -> Vehicle rows, with locks, conflicts, delisting and photos."""
