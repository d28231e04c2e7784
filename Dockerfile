FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt constraints-build.txt ./
RUN pip install --no-cache-dir --upgrade 'pip>=25.3' \
    && pip install --no-cache-dir --build-constraint constraints-build.txt -r requirements.txt

COPY . .
# Static files and translations are built into the image; the build needs a throwaway key only.
RUN DEBUG=true python manage.py compilemessages -v0 \
    && DEBUG=false ALLOWED_HOSTS=build SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(60))')" \
       python manage.py collectstatic --no-input -v0

RUN useradd --create-home portal && chown -R portal /app
USER portal
EXPOSE 8000
CMD ["gunicorn", "network_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
