app_name = "virtualmeeting"

urlpatterns = []
