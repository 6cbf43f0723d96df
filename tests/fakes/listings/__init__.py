"""Fake upstream *listing* APIs for `imagegate catalog sync` (not generation fakes).

They live in this package, and their classes carry no `provider`, so the contract suite's
discovery of provider fakes (`fakes.all_fakes`) never picks them up. Each serves what a test
puts in its attributes, paginates as its upstream does, checks the credential its upstream
wants, and has the generic faults of `fakes.base` (`malformed`: a body that is not JSON) plus
`wrong_types` and `missing_fields`, which answer JSON of the wrong shape.
"""
