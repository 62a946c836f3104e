"""`kws-nas bench --out`: the stage chart goes through the report's figure writer (HTML + PNG, shared plotly.js)."""
import re

from nas.board.bench_cli import _plot


def test_bench_chart_is_html_and_png_with_one_plotly_js(tmp_path):
    rows = [{"stage": "features", "ms": 29.2}, {"stage": "network", "ms": 0.57}, {"stage": "post", "ms": 0.01}]
    _plot(rows, "model.tflite on mps2_an500", tmp_path)
    (src,) = re.findall(r'<script[^>]*src="([^"]+)"', (tmp_path / "breakdown.html").read_text())
    assert (tmp_path / src).is_file() and (tmp_path / src).stat().st_size > 1_000_000
    assert (tmp_path / "breakdown.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "29.20 ms" in (tmp_path / "breakdown.html").read_text()
