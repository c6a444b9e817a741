"""Customer segments: explainable rules over customer facts, kept current by a background job."""
