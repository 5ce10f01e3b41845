"""URL patterns of ``bench/ro_stack.py``'s server: the application's, plus
``POST /bench/floor-step/``, which writes the rows of one request of the plain-SQL floor
(``ro_lifecycle.Floor.do``) through Django's connection, in a transaction of the request's
own, behind the application's middleware, token authentication and DRF, and answers the
order's ids for the next step. No business logic: what the HTTP stack itself costs."""

import json
import os

from django.db import connection, transaction
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from ro_lifecycle import Floor

from aftersales.config.urls import urlpatterns as application_urls

IDS = json.loads(os.environ["RO_STACK_IDS"])


class DjangoConnection:
    """``Floor``'s connection interface over Django's connection."""

    def execute(self, sql, params):
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return cursor


class FloorStep(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        data = request.data
        # Floor tells the database by its URL's scheme: "postgresql" or "sqlite"
        floor = Floor(connection.vendor, IDS, conn=DjangoConnection())
        state = data["state"]
        with transaction.atomic():
            floor.do(
                data["step"],
                data["index"],
                state,
                data["vehicle"],
                data["customer"],
                data["technician"],
            )
        return Response({"state": state})


urlpatterns = [path("bench/floor-step/", FloorStep.as_view()), *application_urls]
