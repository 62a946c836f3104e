"""Figures (plotly, HTML + PNG) and tables (pandas CSV) of clips, studies and budgets."""
