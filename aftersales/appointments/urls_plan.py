"""The day-plan board."""

from django.urls import path

from aftersales.appointments import views_plan as views

urlpatterns = [
    path("appointments/plan/", views.day_plan_board, name="day-plan"),
    path("appointments/plan/optimise/", views.day_plan_optimise, name="day-plan-optimise"),
    path("appointments/plan/jobs/<int:pk>/pin/", views.planned_job_pin, name="planned-job-pin"),
    path("appointments/plan/jobs/<int:pk>/move/", views.planned_job_move, name="planned-job-move"),
]
