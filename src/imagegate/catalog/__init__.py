"""The model catalog: typed capabilities and prices per endpoint, loaded from data files."""
