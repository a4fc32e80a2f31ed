"""Local emulators of provider APIs that the connector tests run against."""
