"""Media: decoding, validating, converting and safely fetching images. Nothing else decodes
images, and nothing decodes them when it need not."""
