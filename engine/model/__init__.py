"""The two contracts: the purchase case a user writes and the decision chipclear returns."""
