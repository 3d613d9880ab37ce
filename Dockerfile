# The hotline service for docker-compose.yml: Python 3.11, ffmpeg for the recordings' post-processing.
FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/hotline
COPY pyproject.toml README.md ./
COPY hotline ./hotline
COPY journal ./journal
COPY config ./config
COPY ivr_scripts ./ivr_scripts
RUN pip install --no-cache-dir -e .
# 8080: HTTP (published); 4573: FastAGI for Asterisk (internal network only).
EXPOSE 8080 4573
CMD ["python", "-m", "hotline", "serve", "--host", "0.0.0.0"]
